/// What a reload does to the bound WebSocket listeners: which stay bound, which close, which are
/// bound. A pure value, decided from the listeners bound now and those the new file lists.
///
/// A listener stays bound when the new file has one with the same name, the same address and the
/// same kind (plain or TLS), so its port, its accept queue and everything accepted on it are
/// untouched; its routes, limits and certificates still change, because each new connection reads
/// them from the configuration current when it is accepted. Any other difference is a removal and
/// an addition. Sessions accepted on a removed listener keep running; only the socket closes.
struct ListenerPlan: Equatable {
    /// Names of the listeners that stay bound.
    var kept: [String]
    /// Names of the listeners to close, after the new configuration is in place.
    var removed: [String]
    /// Listeners to bind before the new configuration is in place: if one cannot be bound, the
    /// reload is refused and nothing changes.
    var added: [ListenerConfiguration]
    /// Listeners whose address is held by a listener being removed (a rename, or plain turned TLS):
    /// they can only be bound once that one closed, so after the new configuration is in place.
    var addedAfterClose: [ListenerConfiguration]

    /// - Parameters:
    ///   - bound: the listeners bound now, as configured when they were bound.
    ///   - wanted: the listeners of the new configuration, in file order.
    init(bound: [ListenerConfiguration], wanted: [ListenerConfiguration]) {
        let keptNames = Set(wanted.filter { new in bound.contains { Self.same($0, new) } }.map(\.name))
        self.kept = wanted.map(\.name).filter(keptNames.contains)
        let removed = bound.filter { !keptNames.contains($0.name) }
        self.removed = removed.map(\.name)
        let fresh = wanted.filter { !keptNames.contains($0.name) }
        self.addedAfterClose = fresh.filter { new in removed.contains { Self.sameSocket($0.address, new.address) } }
        self.added = fresh.filter { new in !removed.contains { Self.sameSocket($0.address, new.address) } }
    }

    /// Whether `new` can keep the socket `old` is bound on.
    private static func same(_ old: ListenerConfiguration, _ new: ListenerConfiguration) -> Bool {
        old.name == new.name && old.address.host.lowercased() == new.address.host.lowercased()
            && old.address.port == new.address.port && (old.tls == nil) == (new.tls == nil)
    }

    /// Whether two addresses would bind the same socket (port 0 never does: each bind gets its own port).
    private static func sameSocket(_ a: SocketAddressSpec, _ b: SocketAddressSpec) -> Bool {
        a.port != 0 && a.port == b.port && a.host.lowercased() == b.host.lowercased()
    }
}
