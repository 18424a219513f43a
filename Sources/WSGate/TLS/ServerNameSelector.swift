/// Picks the certificate a listener serves for a client's SNI name (RFC 6066), by the DNS names in
/// each certificate's subject alternative names (RFC 6125 rules).
///
/// An exact name wins over a wildcard; among equals the first certificate in file order wins. A
/// wildcard `*.example.com` covers exactly one label (`chat.example.com`, not `example.com` nor
/// `a.b.example.com`). No SNI, or no match, gets the first certificate.
struct ServerNameSelector: Sendable, Equatable {
    /// The lowercased DNS names of each certificate, in configuration order.
    let namesByCertificate: [[String]]

    init(namesByCertificate: [[String]]) {
        self.namesByCertificate = namesByCertificate.map { $0.map { Self.normalise($0) } }
    }

    /// The index of the certificate to serve for `serverName`.
    func certificateIndex(for serverName: String?) -> Int {
        guard let serverName else { return 0 }
        let name = Self.normalise(serverName)
        if let exact = self.namesByCertificate.firstIndex(where: { $0.contains(name) }) {
            return exact
        }
        guard let dot = name.firstIndex(of: "."), name.index(after: dot) < name.endIndex else { return 0 }
        let wildcard = "*" + name[dot...]
        return self.namesByCertificate.firstIndex(where: { $0.contains(wildcard) }) ?? 0
    }

    /// Lowercased, without a trailing dot (`Example.COM.` and `example.com` are the same name).
    private static func normalise(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }
}
