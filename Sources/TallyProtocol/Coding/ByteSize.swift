import Foundation

/// A byte count as people read it (`6.6 KiB`), for the CLI's summaries and the Reports pages.
public enum ByteSize {
    /// `512 B`, `6.6 KiB`, `1.2 GiB`: binary units, one decimal past bytes.
    public static func text(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
