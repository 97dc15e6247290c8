/// Writes JSON string literals: the one escaping routine every JSON writer in Luna uses
/// (event JSON Lines, luna-trace's exports, the adapter protocol).
package enum JSONString {
    /// Appends `text` to `out` as a JSON string literal, quotes included. With `scriptSafe`,
    /// the literal may also stand inside an HTML `<script>` element: `<`, `>` and `&` are
    /// escaped, as are U+2028 and U+2029 (line terminators to older JavaScript).
    package static func append(_ text: String, to out: inout String, scriptSafe: Bool = false) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<" where scriptSafe: out += "\\u003c"
            case ">" where scriptSafe: out += "\\u003e"
            case "&" where scriptSafe: out += "\\u0026"
            case "\u{2028}" where scriptSafe: out += "\\u2028"
            case "\u{2029}" where scriptSafe: out += "\\u2029"
            case _ where scalar.value < 0x20:
                out += "\\u" + Hex.fixed(UInt64(scalar.value), width: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` as a JSON string literal, quotes included (see `append` for `scriptSafe`).
    package static func quoted(_ text: String, scriptSafe: Bool = false) -> String {
        var out = ""
        append(text, to: &out, scriptSafe: scriptSafe)
        return out
    }
}
