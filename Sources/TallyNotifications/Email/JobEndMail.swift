import Foundation
import TallyFormats
import TallyReport
import TallyStore

/// The e-mail telling someone a job ended: the report, its window in the requester's zone, the
/// rows, the download link and until when it works — plain text, marked as automatic so
/// auto-responders stay quiet (RFC 3834 `Auto-Submitted`).
package enum JobEndMail {
    package static func message(
        _ job: JobRecord, from sender: String, to recipient: String, policy: NotificationPolicy, resultTTLDays: Double,
        now: Double
    ) -> String {
        let succeeded = job.state == .succeeded
        let zone = job.definition.timezone ?? "UTC"
        func shown(_ micros: Int64) -> String { ReportWindow.local(micros, timeZone: zone) ?? CivilTime.rfc3339(micros: micros) }
        let window = "\(shown(job.window.from)) to \(shown(job.window.to)) (\(zone))"
        var lines = [
            succeeded
                ? "The \(job.definition.report.kind.rawValue) report of job \(job.id) is ready."
                : "The \(job.definition.report.kind.rawValue) report of job \(job.id) failed.",
            "", "Window: \(window)",
        ]
        if succeeded {
            lines.append("Rows: \(job.users ?? 0)")
            if let base = policy.publicURL { lines.append("Download: \(base)/v1/jobs/\(job.id)/result") }
            if let finished = job.finishedAt {
                lines.append("The result is kept until \(shown(Int64((finished + resultTTLDays * 86_400) * 1_000_000))).")
            }
        } else {
            lines.append("Error: \((job.error ?? "failed").escapingControlCharacters)")
        }
        lines += ["", "-- ", "tally"]
        let subject = "tally: \(job.definition.report.kind.rawValue) report \(succeeded ? "ready" : "failed"), \(window)"
        let headers = [
            "From: <\(sender)>", "To: <\(recipient)>", "Subject: \(subject)", "Date: \(rfc5322(now))",
            "Message-ID: <\(UUID().uuidString.lowercased())@tally>", "Auto-Submitted: auto-generated", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        return (headers + [""] + lines).joined(separator: "\r\n")
    }

    package static func rfc5322(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
