/// "a" or "an" before a word in an operator-facing message ("an Exchange Online account", "a OneDrive account").
///
/// English picks the article by the sound of the next word, not its letter. A vowel letter gets
/// "an" except where it is read with a consonant sound at the start ("one", "uni…", "eu…", "use…");
/// a few silent-h words get "an". Enough for the product's own words (service names, TOML types).
public enum IndefiniteArticle {
    /// The article for `word`: `an` or `a`.
    public static func `for`(_ word: String) -> String {
        let lower = word.lowercased()
        if ["hour", "honest", "honou"].contains(where: lower.hasPrefix) { return "an" }
        if ["one", "once", "uni", "use", "usu", "eu", "ewe"].contains(where: lower.hasPrefix) { return "a" }
        guard let first = lower.first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }

    /// `word` with its article in front: `an integer`, `a OneDrive`.
    public static func prefixed(_ word: String) -> String {
        "\(self.for(word)) \(word)"
    }
}
