import APSSHCLI
import Foundation

exit(await APPull.main(arguments: Array(CommandLine.arguments.dropFirst())))
