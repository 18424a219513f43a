import Foundation
import Yams

extension GatewayConfiguration {
    /// Reads, decodes and validates the YAML configuration file at `path`.
    ///
    /// - Throws: ``ConfigurationError`` listing every problem in the file, each with its line and key
    ///   path, or a single issue naming the file when it cannot be read.
    public static func load(contentsOf path: String) throws(ConfigurationError) -> GatewayConfiguration {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let issue = ConfigurationIssue(
                file: path,
                line: 0,
                column: 0,
                keyPath: "",
                message: "cannot read the configuration file: \(Self.describeReadError(error))"
            )
            throw ConfigurationError(issues: [issue])
        }
        return try Self.parse(yaml: yaml, file: path)
    }

    /// Decodes and validates a YAML configuration; `file` only names the source in issues.
    ///
    /// - Throws: ``ConfigurationError`` listing every problem, in file order.
    static func parse(yaml: String, file: String) throws(ConfigurationError) -> GatewayConfiguration {
        try ConfigurationReader.read(yaml: yaml, file: file, Self.read)
    }

    private static func describeReadError(_ error: any Error) -> String {
        guard let error = error as? CocoaError else { return "\(error)" }
        switch error.code {
        case .fileReadNoSuchFile: return "no such file"
        case .fileReadNoPermission: return "permission denied"
        case .fileReadInapplicableStringEncoding: return "the file is not valid UTF-8"
        default: return error.localizedDescription
        }
    }
}

// MARK: - The document

extension GatewayConfiguration {
    /// A listener as read, with the node of its address for the rules between listeners and admin.
    private typealias ReadListener = (configuration: ListenerConfiguration, address: ConfigurationNode)

    /// Reads the document; the result is only meaningful when no issues were reported.
    private static func read(_ root: ConfigurationNode?, reader: ConfigurationReader) -> GatewayConfiguration {
        let empty = GatewayConfiguration(listeners: [])
        guard let root else {
            reader.report(
                "the configuration is empty; at least one listener is required",
                line: 1,
                column: 1,
                path: .root.appending("listeners")
            )
            return empty
        }
        return root.mapping { top in
            let listenersNode = top.required("listeners")
            let adminNode = top.value("admin")
            let upstreamsNode = top.value("upstreams")
            let routesNode = top.value("routes")
            // Defaults before the routes that build on them, wherever `defaults` sits in the file.
            let defaults = top.value("defaults").map(DefaultsConfiguration.read) ?? DefaultsConfiguration()
            let limits = top.value("limits").map(GatewayLimits.read) ?? GatewayLimits()
            let log = top.value("log").map(LogConfiguration.read) ?? LogConfiguration()
            let shutdown = top.value("shutdown").map(ShutdownConfiguration.read) ?? ShutdownConfiguration()
            let reload = top.value("reload").map(ReloadConfiguration.read) ?? ReloadConfiguration()

            let listeners = listenersNode.map(Self.readListeners) ?? []
            let admin = if let adminNode { AdminConfiguration.read(adminNode) } else { AdminConfiguration() }
            if let admin {
                // Whether `admin.address` is written, only to word the message.
                let isDefault = adminNode?.node.mapping?["address"] == nil
                Self.validateAdminAddress(admin, isDefault: isDefault, against: listeners)
            }
            let upstreams = upstreamsNode.map(Self.readUpstreams) ?? []
            let routes = routesNode.map { Self.readRoutes($0, defaults: defaults, upstreams: upstreams) } ?? []
            return GatewayConfiguration(
                listeners: listeners.map(\.configuration),
                admin: admin ?? AdminConfiguration(),
                upstreams: Dictionary(upstreams.map { ($0.name, $0) }, uniquingKeysWith: { $1 }),
                routes: routes,
                defaults: defaults,
                limits: limits,
                log: log,
                shutdown: shutdown,
                reload: reload
            )
        } ?? empty
    }

    /// `listeners`: at least one, each bound to an address no other listener takes.
    private static func readListeners(_ node: ConfigurationNode) -> [ReadListener] {
        guard let items = node.sequence() else { return [] }
        guard !items.isEmpty else {
            node.report("at least one listener is required")
            return []
        }
        var names = NameRegistry(kind: "listener")
        var listeners: [ReadListener] = []
        for (index, item) in items.enumerated() {
            let read = item.mapping { ListenerConfiguration.read($0, name: names.register(in: $0, index: index)) }
            guard let listener = read ?? nil else { continue }
            if let other = listeners.first(where: { Self.conflict($0.configuration.address, listener.configuration.address) }) {
                listener.address.report(
                    "address \(listener.configuration.address) is already used by listener '\(other.configuration.name)' "
                        + "(\(other.address.path), line \(other.address.line))"
                )
            }
            listeners.append(listener)
        }
        return listeners
    }

    /// The admin endpoint must not take a listener's address, including the default admin address.
    /// Reported at the listener, which is where the user wrote the clashing address.
    private static func validateAdminAddress(_ admin: AdminConfiguration, isDefault: Bool, against listeners: [ReadListener]) {
        guard let listener = listeners.first(where: { Self.conflict($0.configuration.address, admin.address) }) else {
            return
        }
        let fix = isDefault ? "the default admin.address; move the listener or set admin.address" : "admin.address"
        listener.address.report("address \(admin.address) is already used by \(fix)")
    }

    /// Two binds conflict when host (ignoring case) and port are equal; port 0 never conflicts.
    private static func conflict(_ a: SocketAddressSpec, _ b: SocketAddressSpec) -> Bool {
        a.port != 0 && a.port == b.port && a.host.lowercased() == b.host.lowercased()
    }

    /// `upstreams`, in file order; every name is kept, valid or not, so a route naming a broken
    /// upstream is not reported a second time as naming an unknown one.
    private static func readUpstreams(_ node: ConfigurationNode) -> [UpstreamConfiguration] {
        node.entries()?.map { entry in
            if !NameRegistry.isValid(entry.key) {
                node.reader.report(NameRegistry.invalidNameMessage, at: entry.keyNode, path: entry.value.path)
            }
            return UpstreamConfiguration.read(entry.value, name: entry.key)
        } ?? []
    }

    private static func readRoutes(
        _ node: ConfigurationNode,
        defaults: DefaultsConfiguration,
        upstreams: [UpstreamConfiguration]
    ) -> [RouteConfiguration] {
        var names = NameRegistry(kind: "route")
        let declared = upstreams.map(\.name)
        let protocols = Dictionary(upstreams.map { ($0.name, $0.protocol) }, uniquingKeysWith: { $1 })
        return node.sequence()?.enumerated().compactMap { index, item in
            item.mapping { mapping in
                let name = names.register(in: mapping, index: index)
                let route = RouteConfiguration.read(mapping, name: name, defaults: defaults, upstreams: declared)
                if let carried = protocols[route.upstream] {
                    route.validateKinds(in: mapping, carried: carried)
                }
                return route
            }
        } ?? []
    }
}
