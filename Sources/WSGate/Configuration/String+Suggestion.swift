extension String {
    /// The candidate closest to `self` by edit distance, ignoring case, if it is at most 2 edits away:
    /// the "did you mean" for a typo'd key or name. Ties go to the earlier candidate.
    func closestMatch(among candidates: some Sequence<String>) -> String? {
        let word = Array(self.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = Self.editDistance(word, Array(candidate.lowercased()))
            if distance <= 2, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
