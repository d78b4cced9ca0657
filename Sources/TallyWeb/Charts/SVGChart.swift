import Foundation

/// Charts drawn on the server as SVG (no script, no library): horizontal bars, and columns on a
/// log scale. Labels are escaped; sizes come from the data only.
package enum SVGChart {
    /// Horizontal bars, one per item, longest first as given.
    package static func bars(_ items: [(label: String, value: Int64)], title: String) -> String {
        let rowHeight = 24, labelWidth = 260, barWidth = 300, height = max(1, items.count) * rowHeight + 8
        let largest = max(1, items.map(\.value).max() ?? 1)
        var svg =
            #"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 \#(labelWidth + barWidth + 90) \#(height)" "#
            + #"aria-label="\#(escape(title))"><title>\#(escape(title))</title>"#
        for (i, item) in items.enumerated() {
            let y = i * rowHeight + 4
            let width = max(1, Int(Double(item.value) / Double(largest) * Double(barWidth)))
            let label = item.label.count > 38 ? String(item.label.prefix(37)) + "…" : item.label
            svg +=
                #"<text x="\#(labelWidth - 6)" y="\#(y + 16)" text-anchor="end" font-size="12" fill="rgb(34,34,34)">\#(escape(label))</text>"#
            svg += #"<rect x="\#(labelWidth)" y="\#(y + 3)" width="\#(width)" height="\#(rowHeight - 8)" fill="rgb(59,110,165)"/>"#
            svg +=
                #"<text x="\#(labelWidth + width + 6)" y="\#(y + 16)" font-size="12" fill="rgb(34,34,34)">\#(ReportFigures.grouped(item.value))</text>"#
        }
        return svg + "</svg>"
    }

    /// Columns whose heights follow log10(1 + value), so one large bucket does not flatten the
    /// rest; `axis` names what the columns count.
    package static func logColumns(
        _ items: [(label: String, value: Int64)], title: String, axis: String = "client IPs per user"
    ) -> String {
        let columnWidth = 66, plotHeight = 160, width = max(1, items.count) * columnWidth + 20, height = plotHeight + 60
        let top = log10(1 + Double(max(1, items.map(\.value).max() ?? 1)))
        var svg =
            #"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 \#(width) \#(height)" aria-label="\#(escape(title))">"#
            + #"<title>\#(escape(title))</title>"#
        for (i, item) in items.enumerated() {
            let x = 10 + i * columnWidth
            let h = item.value > 0 ? max(2, Int(log10(1 + Double(item.value)) / top * Double(plotHeight))) : 0
            svg += #"<rect x="\#(x + 4)" y="\#(plotHeight + 20 - h)" width="\#(columnWidth - 8)" height="\#(h)" fill="rgb(59,110,165)"/>"#
            svg +=
                #"<text x="\#(x + columnWidth / 2)" y="\#(plotHeight + 16 - h)" text-anchor="middle" font-size="11" fill="rgb(34,34,34)">\#(item.value)</text>"#
            svg +=
                #"<text x="\#(x + columnWidth / 2)" y="\#(plotHeight + 36)" text-anchor="middle" font-size="11" fill="rgb(34,34,34)">\#(escape(item.label))</text>"#
        }
        return svg
            + #"<text x="10" y="\#(plotHeight + 54)" font-size="11" fill="rgb(85,85,85)">\#(escape(axis)) (log scale)</text></svg>"#
    }

    /// Text and attribute values in SVG (XML).
    package static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func log10(_ x: Double) -> Double { Foundation.log10(x) }
}
