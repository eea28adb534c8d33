import APSSHCLI
import Foundation

exit(await APPush.main(arguments: ProcessArguments.current))
