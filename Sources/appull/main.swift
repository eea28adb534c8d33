import APSSHCLI
import Foundation

exit(await APPull.main(arguments: ProcessArguments.current))
