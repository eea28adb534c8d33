import APSSHCLI
import Foundation

exit(await APPush.main(arguments: Array(CommandLine.arguments.dropFirst())))
