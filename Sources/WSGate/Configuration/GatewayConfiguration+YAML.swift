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
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> GatewayConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(issues: [ConfigurationIssue(yamlError: error, file: file)])
        }
        var decoder = GatewayConfigurationDecoder(context: YAMLDecodingContext(file: file))
        let configuration = decoder.decode(root)
        guard decoder.context.issues.isEmpty else {
            let issues = decoder.context.issues.enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw ConfigurationError(issues: issues.map(\.element))
        }
        return configuration
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

extension ConfigurationIssue {
    /// Turns a Yams syntax error into an issue at the position libyaml reported.
    fileprivate init(yamlError: any Error, file: String) {
        let (line, column, message): (Int, Int, String)
        switch yamlError as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            (line, column, message) = (mark.line, mark.column, "invalid YAML: \(problem)\(detail)")
        case .reader(let problem, let offset, _, let yaml):
            let position = offset.map { Self.lineAndColumn(ofCharacterOffset: $0, in: yaml) } ?? (line: 0, column: 0)
            (line, column, message) = (position.line, position.column, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            (line, column, message) = (context.mark.line, context.mark.column, "duplicate key \(keys) in one mapping")
        case .no, .memory, .writer, .emitter, .representer, .dataCouldNotBeDecoded, nil:
            (line, column, message) = (0, 0, "invalid YAML: \(yamlError)")
        }
        self.init(file: file, line: line, column: column, keyPath: "", message: message)
    }

    private static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var (line, column) = (1, 1)
        for character in text.prefix(offset) {
            if character == "\n" {
                (line, column) = (line + 1, 1)
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

/// The configuration schema: which keys exist where, their defaults, and the rules between them.
private struct GatewayConfigurationDecoder {
    var context: YAMLDecodingContext

    private static let rootKeys = ["listeners", "admin", "upstreams", "routes", "defaults", "limits", "log", "shutdown", "reload"]
    private static let listenerKeys = ["name", "address", "tls"]
    private static let upstreamKeys = [
        "protocol", "endpoints", "connect_timeout", "tls", "balance", "pool", "drop_underscore_headers",
    ]
    private static let routeKeys = [
        "name", "match", "upstream", "rewrite_prefix", "origins", "limits", "backpressure", "compression",
    ]
    private static let matchKeys = ["host", "path", "path_prefix", "headers"]
    private static let defaultsKeys = ["limits", "backpressure", "compression"]
    private static let limitsKeys = [
        "max_frame", "max_message", "handshake_timeout", "idle_timeout", "ping_interval", "close_timeout",
        "max_messages_per_second", "max_header_bytes", "max_headers", "max_connections",
    ]
    private static let backpressureKeys = ["high_water", "low_water", "max_buffered", "max_stall", "on_limit"]

    /// Decodes the document; the result is only meaningful when no issues were recorded.
    mutating func decode(_ root: Node?) -> GatewayConfiguration {
        let empty = GatewayConfiguration(listeners: [])
        guard let root else {
            self.context.report(
                "the configuration is empty; at least one listener is required",
                line: 1,
                column: 1,
                path: .root.appending("listeners")
            )
            return empty
        }
        guard let top = self.context.mapping(root, at: .root, knownKeys: Self.rootKeys) else { return empty }

        // Defaults first: routes resolve their limits on top of them, wherever `defaults` sits in the file.
        let defaults =
            top["defaults"].map { self.decodeDefaults($0, at: .root.appending("defaults")) } ?? DefaultsConfiguration()
        let listeners = self.decodeListeners(top)
        let admin = self.context.decodeAdmin(top["admin"], at: .root.appending("admin"))
        if let admin {
            self.checkAdminAddress(admin, isDefault: top["admin"]?.mapping?["address"] == nil, against: listeners)
        }
        let upstreamsNode = top["upstreams"]
        let upstreams = upstreamsNode.map { self.decodeUpstreams($0, at: .root.appending("upstreams")) } ?? [:]
        let upstreamNames = Self.declaredNames(in: upstreamsNode)
        let routes =
            top["routes"].map {
                self.decodeRoutes(
                    $0,
                    at: .root.appending("routes"),
                    defaults: defaults,
                    upstreams: upstreamNames
                )
            } ?? []
        let shutdown = top["shutdown"].map { self.context.decodeShutdown($0, at: .root.appending("shutdown")) }
        let reload = top["reload"].map { self.context.decodeReload($0, at: .root.appending("reload")) }

        return GatewayConfiguration(
            listeners: listeners.map(\.configuration),
            admin: admin ?? AdminConfiguration(),
            upstreams: upstreams,
            routes: routes,
            defaults: defaults,
            limits: top["limits"].map { self.context.decodeGatewayLimits($0, at: .root.appending("limits")) } ?? GatewayLimits(),
            log: top["log"].map { self.context.decodeLog($0, at: .root.appending("log")) } ?? LogConfiguration(),
            shutdown: shutdown ?? ShutdownConfiguration(),
            reload: reload ?? ReloadConfiguration()
        )
    }

    // MARK: - Listeners and admin

    /// A decoded listener with where its address was written, for the uniqueness checks.
    private struct DecodedListener {
        var configuration: ListenerConfiguration
        var addressNode: Node
        var path: ConfigurationKeyPath
    }

    private mutating func decodeListeners(_ top: YAMLMapping) -> [DecodedListener] {
        let path = top.path.appending("listeners")
        guard let node = self.context.required("listeners", in: top),
            let items = self.context.sequence(node, at: path)
        else { return [] }
        if items.isEmpty {
            self.context.report("at least one listener is required", at: node, path: path)
        }

        var listeners: [DecodedListener] = []
        var names = NameRegistry(kind: "listener")
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let mapping = self.context.mapping(item, at: itemPath, knownKeys: Self.listenerKeys) else { continue }
            let tls = mapping["tls"].flatMap {
                TLSYAMLDecoder.decodeListenerTLS($0, at: itemPath.appending("tls"), context: &self.context)
            }
            let name = names.register(in: mapping, index: index, defaultPrefix: "listener", context: &self.context)
            let addressPath = itemPath.appending("address")
            guard let addressNode = self.context.required("address", in: mapping),
                let address = self.context.value(addressNode, at: addressPath, SocketAddressSpec.parse)
            else { continue }

            if let other = listeners.first(where: { Self.conflict($0.configuration.address, address) }) {
                self.context.report(
                    "address \(address) is already used by listener '\(other.configuration.name)' "
                        + "(\(other.path), line \(other.addressNode.mark?.line ?? 0))",
                    at: addressNode,
                    path: addressPath
                )
            }
            listeners.append(
                DecodedListener(
                    configuration: ListenerConfiguration(name: name, address: address, tls: tls),
                    addressNode: addressNode,
                    path: addressPath
                )
            )
        }
        return listeners
    }

    /// The admin endpoint must not take a listener's address, including the default admin address.
    /// Reported at the listener, which is where the user wrote the clashing address.
    private mutating func checkAdminAddress(
        _ admin: AdminConfiguration,
        isDefault: Bool,
        against listeners: [DecodedListener]
    ) {
        guard let listener = listeners.first(where: { Self.conflict($0.configuration.address, admin.address) }) else {
            return
        }
        let fix = isDefault ? "the default admin.address; move the listener or set admin.address" : "admin.address"
        self.context.report(
            "address \(admin.address) is already used by \(fix)",
            at: listener.addressNode,
            path: listener.path
        )
    }

    /// Two binds conflict when host (ignoring case) and port are equal; port 0 never conflicts.
    private static func conflict(_ a: SocketAddressSpec, _ b: SocketAddressSpec) -> Bool {
        a.port != 0 && a.port == b.port && a.host.lowercased() == b.host.lowercased()
    }

    // MARK: - Upstreams

    /// The names under `upstreams`, valid or not, so a route naming a broken upstream is not
    /// reported a second time as naming an unknown one.
    private static func declaredNames(in node: Node?) -> [String] {
        guard case .mapping(let mapping) = node else { return [] }
        return mapping.keys.compactMap { $0.scalar?.string }
    }

    private mutating func decodeUpstreams(
        _ node: Node,
        at path: ConfigurationKeyPath
    ) -> [String: UpstreamConfiguration] {
        guard let mapping = self.context.mapping(node, at: path, knownKeys: nil) else { return [:] }
        var upstreams: [String: UpstreamConfiguration] = [:]
        for entry in mapping.entries {
            let upstreamPath = path.appending(entry.key)
            if !NameRegistry.isValid(entry.key) {
                self.context.report(NameRegistry.invalidNameMessage, at: entry.keyNode, path: upstreamPath)
            }
            upstreams[entry.key] = self.decodeUpstream(named: entry.key, entry.value, at: upstreamPath)
        }
        return upstreams
    }

    private mutating func decodeUpstream(
        named name: String,
        _ node: Node,
        at path: ConfigurationKeyPath
    ) -> UpstreamConfiguration {
        var upstream = UpstreamConfiguration(name: name)
        guard let mapping = self.context.mapping(node, at: path, knownKeys: Self.upstreamKeys) else { return upstream }

        if let node = mapping["tls"] {
            upstream.tls = TLSYAMLDecoder.decodeUpstreamTLS(node, at: path.appending("tls"), context: &self.context)
        }
        if let node = mapping["balance"], let balance = self.context.value(node, at: path.appending("balance"), YAMLDecodingContext.parseBalance) {
            upstream.balance = balance
        }
        if let node = mapping["pool"] {
            upstream.pool = self.context.decodePool(node, at: path.appending("pool"))
        }
        if let node = mapping["drop_underscore_headers"],
            let flag = self.context.value(node, at: path.appending("drop_underscore_headers"), YAMLDecodingContext.parseBool)
        {
            upstream.dropUnderscoreHeaders = flag
        }
        if let node = mapping["connect_timeout"],
            let timeout = self.duration(node, at: path.appending("connect_timeout"), zeroDisables: false)
        {
            upstream.connectTimeout = timeout
        }
        let upstreamProtocol =
            mapping["protocol"].map {
                self.context.value($0, at: path.appending("protocol"), Self.parseProtocol)
            } ?? .websocket

        let endpointsPath = path.appending("endpoints")
        let endpointsNode = mapping["endpoints"]
        let endpointNodes = endpointsNode.flatMap { self.context.sequence($0, at: endpointsPath) }
        for (index, endpointNode) in (endpointNodes ?? []).enumerated() {
            let endpointPath = endpointsPath.appending(index: index)
            guard let endpoint = self.context.value(endpointNode, at: endpointPath, SocketAddressSpec.parse) else {
                continue
            }
            if endpoint.port == 0 {
                self.context.report("an endpoint needs a port other than 0", at: endpointNode, path: endpointPath)
            }
            upstream.endpoints.append(endpoint)
        }

        // Checked only once the protocol is known, so a typo in `protocol` is reported once.
        switch upstreamProtocol {
        case .websocket?, .websocketH2?:
            let kind = upstreamProtocol?.rawValue ?? ""
            if endpointsNode == nil {
                self.context.report(
                    "missing required key 'endpoints' (a \(kind) upstream needs at least one endpoint)",
                    at: mapping.node,
                    path: endpointsPath
                )
            } else if let endpointsNode, endpointNodes?.isEmpty == true {
                self.context.report(
                    "a \(kind) upstream needs at least one endpoint",
                    at: endpointsNode,
                    path: endpointsPath
                )
            }
            if upstreamProtocol == .websocket, let pool = mapping.keyNode("pool") {
                self.context.report("pool applies to websocket-h2 upstreams only", at: pool, path: path.appending("pool"))
            }
        case .echo?:
            if let endpointsNode, endpointNodes?.isEmpty == false {
                self.context.report("an echo upstream takes no endpoints", at: endpointsNode, path: endpointsPath)
            }
            if let tls = mapping.keyNode("tls") {
                self.context.report("an echo upstream takes no tls", at: tls, path: path.appending("tls"))
            }
            if let pool = mapping.keyNode("pool") {
                self.context.report("pool applies to websocket-h2 upstreams only", at: pool, path: path.appending("pool"))
            }
        case nil:
            break
        }
        upstream.protocol = upstreamProtocol ?? .websocket
        return upstream
    }

    private static func parseProtocol(_ text: String) throws(ValueSyntaxError) -> UpstreamProtocol {
        if let upstreamProtocol = UpstreamProtocol(rawValue: text) {
            return upstreamProtocol
        }
        let names = UpstreamProtocol.allCases.map(\.rawValue)
        let hint =
            text.closestMatch(among: names).map { "did you mean '\($0)'?" }
            ?? "expected one of: \(names.joined(separator: ", "))"
        throw ValueSyntaxError("unknown protocol '\(text)' (\(hint))")
    }

    // MARK: - Routes

    private mutating func decodeRoutes(
        _ node: Node,
        at path: ConfigurationKeyPath,
        defaults: DefaultsConfiguration,
        upstreams: [String]
    ) -> [RouteConfiguration] {
        guard let items = self.context.sequence(node, at: path) else { return [] }
        var routes: [RouteConfiguration] = []
        var names = NameRegistry(kind: "route")
        for (index, item) in items.enumerated() {
            let routePath = path.appending(index: index)
            guard let mapping = self.context.mapping(item, at: routePath, knownKeys: Self.routeKeys) else { continue }
            let name = names.register(in: mapping, index: index, defaultPrefix: "route", context: &self.context)
            routes.append(self.decodeRoute(named: name, mapping, defaults: defaults, upstreams: upstreams))
        }
        return routes
    }

    private mutating func decodeRoute(
        named name: String,
        _ mapping: YAMLMapping,
        defaults: DefaultsConfiguration,
        upstreams: [String]
    ) -> RouteConfiguration {
        let path = mapping.path
        var route = RouteConfiguration(
            name: name,
            upstream: "",
            limits: defaults.limits,
            backpressure: defaults.backpressure,
            compression: defaults.compression
        )

        if let node = mapping["match"] {
            route.match = self.decodeMatch(node, at: path.appending("match"))
        }

        if let node = self.context.required("upstream", in: mapping),
            let upstream = self.context.string(node, at: path.appending("upstream"))
        {
            if !upstreams.contains(upstream) {
                let hint =
                    upstream.closestMatch(among: upstreams).map { "did you mean '\($0)'?" }
                    ?? (upstreams.isEmpty
                        ? "no upstreams are defined" : "defined: \(upstreams.joined(separator: ", "))")
                self.context.report(
                    "unknown upstream '\(upstream)' (\(hint))",
                    at: node,
                    path: path.appending("upstream")
                )
            }
            route.upstream = upstream
        }

        if let node = mapping["rewrite_prefix"] {
            let rewritePath = path.appending("rewrite_prefix")
            route.rewritePrefix = self.context.value(node, at: rewritePath, Self.parseRewritePrefix)
            if mapping["match"]?.mapping?["path_prefix"] == nil {
                self.context.report(
                    "rewrite_prefix needs match.path_prefix (it replaces the matched prefix)",
                    at: mapping.keyNode("rewrite_prefix") ?? node,
                    path: rewritePath
                )
            }
        }

        if let node = mapping["origins"] {
            route.origins = self.decodeOrigins(node, at: path.appending("origins"))
        }

        if let node = mapping["limits"] {
            route.limits = self.decodeLimits(node, at: path.appending("limits"), base: defaults.limits)
        }
        if let node = mapping["backpressure"] {
            route.backpressure = self.decodeBackpressure(node, at: path.appending("backpressure"), base: defaults.backpressure)
        }
        if let node = mapping["compression"] {
            route.compression = self.context.decodeCompression(node, at: path.appending("compression"), base: defaults.compression)
        }
        return route
    }

    private mutating func decodeMatch(_ node: Node, at path: ConfigurationKeyPath) -> RouteMatch {
        var match = RouteMatch()
        guard let mapping = self.context.mapping(node, at: path, knownKeys: Self.matchKeys) else { return match }

        if let node = mapping["host"] {
            match.host = self.context.value(node, at: path.appending("host"), HostPattern.parse)
        }
        if let node = mapping["path"] {
            match.path = self.context.value(node, at: path.appending("path"), Self.parsePath).map(PathPattern.exact)
        }
        if let node = mapping["path_prefix"] {
            let prefixPath = path.appending("path_prefix")
            if mapping["path"] != nil {
                self.context.report(
                    "'path' and 'path_prefix' cannot both be set; use one",
                    at: mapping.keyNode("path_prefix") ?? node,
                    path: prefixPath
                )
            }
            match.path = self.context.value(node, at: prefixPath, Self.parsePath).map(PathPattern.prefix)
        }
        if let node = mapping["headers"] {
            match.headers = self.decodeHeaders(node, at: path.appending("headers"))
        }
        return match
    }

    private mutating func decodeHeaders(_ node: Node, at path: ConfigurationKeyPath) -> [HeaderMatch] {
        guard let mapping = self.context.mapping(node, at: path, knownKeys: nil) else { return [] }
        var headers: [HeaderMatch] = []
        for entry in mapping.entries {
            let headerPath = path.appending(entry.key)
            guard !entry.key.isEmpty, entry.key.allSatisfy(Self.isTokenCharacter) else {
                self.context.report("'\(entry.key)' is not a valid header name", at: entry.keyNode, path: headerPath)
                continue
            }
            if let value = self.context.string(entry.value, at: headerPath) {
                headers.append(HeaderMatch(name: entry.key, value: value))
            }
        }
        return headers
    }

    private mutating func decodeOrigins(_ node: Node, at path: ConfigurationKeyPath) -> [String] {
        guard let items = self.context.sequence(node, at: path) else { return [] }
        return items.enumerated().compactMap { index, item in
            self.context.value(item, at: path.appending(index: index), Self.parseOrigin)
        }
    }

    /// An origin as browsers serialise it, `scheme://host[:port]`, lowercased: the handshake compares
    /// the `Origin` header exactly, so `https://chat.example.com/` (with a path) would never match.
    private static func parseOrigin(_ text: String) throws(ValueSyntaxError) -> String {
        let example = "must be scheme://host[:port], e.g. 'https://chat.example.com'"
        guard let separator = text.firstRange(of: "://") else {
            throw ValueSyntaxError("origin '\(text)' \(example)")
        }
        let scheme = text[..<separator.lowerBound]
        let authority = text[separator.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "+-.".contains($0) }),
            !authority.isEmpty, !authority.contains(where: { "/?#".contains($0) })
        else {
            throw ValueSyntaxError("origin '\(text)' \(example)")
        }
        return text.lowercased()
    }

    /// `path` and `path_prefix`: an absolute path without a query.
    private static func parsePath(_ text: String) throws(ValueSyntaxError) -> String {
        guard text.hasPrefix("/") else {
            throw ValueSyntaxError("path '\(text)' must start with '/'")
        }
        guard !text.contains("?") else {
            throw ValueSyntaxError("path '\(text)' must not contain a query; paths are matched without it")
        }
        return text
    }

    private static func parseRewritePrefix(_ text: String) throws(ValueSyntaxError) -> String {
        guard text.hasPrefix("/") else {
            throw ValueSyntaxError("rewrite_prefix '\(text)' must start with '/'")
        }
        return text
    }

    /// RFC 9110 `tchar`: the characters a header field name may contain.
    private static func isTokenCharacter(_ character: Character) -> Bool {
        character.isASCIILetter || character.isASCIIDigit || "!#$%&'*+-.^_`|~".contains(character)
    }

    // MARK: - Defaults and limits

    private mutating func decodeDefaults(_ node: Node, at path: ConfigurationKeyPath) -> DefaultsConfiguration {
        var defaults = DefaultsConfiguration()
        guard let mapping = self.context.mapping(node, at: path, knownKeys: Self.defaultsKeys) else { return defaults }
        if let limitsNode = mapping["limits"] {
            defaults.limits = self.decodeLimits(limitsNode, at: path.appending("limits"), base: defaults.limits)
        }
        if let node = mapping["backpressure"] {
            defaults.backpressure = self.decodeBackpressure(node, at: path.appending("backpressure"), base: defaults.backpressure)
        }
        if let node = mapping["compression"] {
            defaults.compression = self.context.decodeCompression(node, at: path.appending("compression"), base: defaults.compression)
        }
        return defaults
    }

    /// Applies the keys present in `node` on top of `base`; low water must stay below high water, and
    /// high water at most the hard ceiling.
    private mutating func decodeBackpressure(
        _ node: Node,
        at path: ConfigurationKeyPath,
        base: BackpressureConfiguration
    ) -> BackpressureConfiguration {
        var backpressure = base
        guard let mapping = self.context.mapping(node, at: path, knownKeys: Self.backpressureKeys) else { return backpressure }
        let sizes: [(key: String, field: WritableKeyPath<BackpressureConfiguration, Int>)] = [
            ("high_water", \.highWater),
            ("low_water", \.lowWater),
            ("max_buffered", \.maxBuffered),
        ]
        for (key, field) in sizes {
            if let node = mapping[key], let bytes = self.size(node, at: path.appending(key)) {
                backpressure[keyPath: field] = bytes
            }
        }
        if let node = mapping["max_stall"], let stall = self.duration(node, at: path.appending("max_stall"), zeroDisables: false) {
            backpressure.maxStall = stall
        }
        if let node = mapping["on_limit"] {
            backpressure.onLimit = self.context.value(node, at: path.appending("on_limit")) { (text: String) throws(ValueSyntaxError) in
                guard let action = BackpressureConfiguration.LimitAction(rawValue: text) else {
                    throw ValueSyntaxError("must be 'close' or 'pause', not '\(text)'")
                }
                return action
            } ?? backpressure.onLimit
        }
        if backpressure.lowWater >= backpressure.highWater {
            self.context.report("low_water must be below high_water (\(backpressure.highWater) bytes)", at: node, path: path)
        }
        if backpressure.highWater > backpressure.maxBuffered {
            self.context.report("high_water must not exceed max_buffered (\(backpressure.maxBuffered) bytes)", at: node, path: path)
        }
        return backpressure
    }

    /// Applies the keys present in `node` on top of `base`.
    private mutating func decodeLimits(_ node: Node, at path: ConfigurationKeyPath, base: Limits) -> Limits {
        var limits = base
        guard let mapping = self.context.mapping(node, at: path, knownKeys: Self.limitsKeys) else { return limits }
        let sizes: [(key: String, field: WritableKeyPath<Limits, Int>)] = [
            ("max_frame", \.maxFrame),
            ("max_message", \.maxMessage),
            ("max_header_bytes", \.maxHeaderBytes),
        ]
        for (key, field) in sizes {
            if let node = mapping[key], let bytes = self.size(node, at: path.appending(key)) {
                limits[keyPath: field] = bytes
            }
        }
        let counts: [(key: String, field: WritableKeyPath<Limits, Int>, zeroDisables: Bool)] = [
            ("max_messages_per_second", \.maxMessagesPerSecond, true),
            ("max_connections", \.maxConnections, true),
            ("max_headers", \.maxHeaders, false),
        ]
        for (key, field, zeroDisables) in counts {
            if let node = mapping[key], let count = self.count(node, at: path.appending(key), zeroDisables: zeroDisables) {
                limits[keyPath: field] = count
            }
        }
        let durations: [(key: String, field: WritableKeyPath<Limits, Duration>, zeroDisables: Bool)] = [
            ("handshake_timeout", \.handshakeTimeout, false),
            ("idle_timeout", \.idleTimeout, true),
            ("ping_interval", \.pingInterval, true),
            ("close_timeout", \.closeTimeout, false),
        ]
        for (key, field, zeroDisables) in durations {
            if let node = mapping[key],
                let duration = self.duration(node, at: path.appending(key), zeroDisables: zeroDisables)
            {
                limits[keyPath: field] = duration
            }
        }
        return limits
    }

    /// A byte size greater than zero.
    private mutating func size(_ node: Node, at path: ConfigurationKeyPath) -> Int? {
        guard let bytes = self.context.value(node, at: path, ByteSize.parse) else { return nil }
        guard bytes > 0 else {
            self.context.report("size must be greater than 0", at: node, path: path)
            return nil
        }
        return bytes
    }

    /// A whole number; zero only where it means "no limit".
    private mutating func count(_ node: Node, at path: ConfigurationKeyPath, zeroDisables: Bool) -> Int? {
        guard let count = self.context.value(node, at: path, { (text: String) throws(ValueSyntaxError) in
            guard let count = Int(text), count >= 0 else { throw ValueSyntaxError("'\(text)' is not a whole number") }
            return count
        }) else { return nil }
        guard zeroDisables || count > 0 else {
            self.context.report("must be greater than 0", at: node, path: path)
            return nil
        }
        return count
    }

    /// A duration; zero only where it means "disabled".
    private mutating func duration(_ node: Node, at path: ConfigurationKeyPath, zeroDisables: Bool) -> Duration? {
        guard let duration = self.context.value(node, at: path, DurationParsing.parse) else { return nil }
        guard zeroDisables || duration > .zero else {
            self.context.report("duration must be greater than 0", at: node, path: path)
            return nil
        }
        return duration
    }
}

/// Names listeners and routes (`name` or a generated `<prefix>_<n>`) and reports invalid and duplicate names.
private struct NameRegistry {
    static let invalidNameMessage = "a name must not be empty or contain whitespace"

    let kind: String
    private var seen: [String: (path: ConfigurationKeyPath, line: Int)] = [:]

    init(kind: String) {
        self.kind = kind
    }

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && !name.contains(where: \.isWhitespace)
    }

    /// The item's name: its `name` key, or `<defaultPrefix>_<index + 1>` when it has none.
    mutating func register(
        in mapping: YAMLMapping,
        index: Int,
        defaultPrefix: String,
        context: inout YAMLDecodingContext
    ) -> String {
        let path = mapping.path.appending("name")
        let generatedName = "\(defaultPrefix)_\(index + 1)"
        guard let nameNode = mapping["name"] else {
            self.checkUnique(generatedName, isGenerated: true, at: mapping.node, in: mapping, context: &context)
            return generatedName
        }
        guard let name = context.string(nameNode, at: path) else { return generatedName }
        guard Self.isValid(name) else {
            context.report(Self.invalidNameMessage, at: nameNode, path: path)
            return generatedName
        }
        self.checkUnique(name, isGenerated: false, at: nameNode, in: mapping, context: &context)
        return name
    }

    private mutating func checkUnique(
        _ name: String,
        isGenerated: Bool,
        at node: Node,
        in mapping: YAMLMapping,
        context: inout YAMLDecodingContext
    ) {
        guard let first = self.seen[name] else {
            self.seen[name] = (mapping.path, node.mark?.line ?? 0)
            return
        }
        let subject = isGenerated ? "generated name '\(name)'" : "\(self.kind) name '\(name)'"
        let fix = isGenerated ? "; give this \(self.kind) a name" : ""
        context.report(
            "\(subject) is already used by \(first.path) (line \(first.line))\(fix)",
            at: node,
            path: mapping.path.appending("name")
        )
    }
}
