import Foundation
import TallyStore

/// A coordinator replica's name in the leader row and the logs: its host and process, and a
/// random part, so a restarted process never takes over its predecessor's term.
enum ReplicaName {
    static func make() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(JobID.make().prefix(6))"
    }
}
