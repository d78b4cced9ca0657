import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TallyServices
import TallyStore

/// With shared blobs, every replica keeps local copies of the files it wrote or fetched: the
/// partials it received, the results it served. The leader's retention removes a job's files
/// from the bucket and its own folder only, so each replica sweeps its own copies (docs/design.md
/// §3.11): an ended job loses its partials; a job gone from the store, failed, cancelled, or
/// whose result expired, loses its folder.
struct LocalCopySweeper: Service {
    let store: any JobStore
    let files: DataDirectory
    let clock: any CoordinatorClock
    let logger: Logger

    /// How often the copies are swept, in seconds.
    static let interval: Double = 60

    func run() async throws {
        await PeriodicService.run(every: Self.interval, on: clock) { await runOnce() }
    }

    /// One sweep; errors are logged.
    func runOnce() async {
        do {
            let files = self.files
            let ids = try await NIOThreadPool.singleton.runIfActive {
                (try? FileManager.default.contentsOfDirectory(atPath: files.root + "/jobs")) ?? []
            }
            var removed = 0
            for id in ids {
                let job = try await store.job(id)
                // A job gone, failed, cancelled or whose result expired has ended too.
                guard job.map({ [.succeeded, .failed, .cancelled].contains($0.state) }) ?? true else { continue }
                let whole = job.map { $0.state != .succeeded || $0.resultBytes == nil } ?? true
                try await NIOThreadPool.singleton.runIfActive {
                    if whole { files.removeJob(id) } else { files.removePartials(id) }
                }
                removed += whole ? 1 : 0
            }
            if removed > 0 { logger.debug("local copies of ended jobs removed", metadata: ["jobs": "\(removed)"]) }
        } catch {
            logger.warning("local copies not swept", metadata: ["error": "\(error)"])
        }
    }
}
