import APSSHCLI
import Foundation

exit(await APSSH.main(arguments: ProcessArguments.current))
