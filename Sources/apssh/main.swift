import APSSHCLI
import Foundation

exit(await APSSH.main(arguments: Array(CommandLine.arguments.dropFirst())))
