import Logging

/// The configuration the gateway serves new connections with: the validated file, its route table,
/// one `UpstreamCluster` per upstream and the TLS contexts of its TLS listeners (the admin listener
/// included). Immutable; a reload
/// builds a new one, and sessions keep the one they started with.
final class ActiveConfiguration: Sendable {
    let configuration: GatewayConfiguration
    let routeTable: RouteTable
    let clusters: [String: UpstreamCluster]
    /// The authentication of each route with `auth`, by route name (keys read from their files).
    let authenticators: [String: RouteAuthenticator]
    /// The server TLS context of each TLS listener, by listener name.
    let listenerTLS: [String: ListenerTLSContext]
    /// The admin listener's TLS context, when `admin.tls` is set.
    let adminTLS: ListenerTLSContext?

    /// Builds everything new connections need, reading every certificate and key file the
    /// configuration names. Blocking disk I/O: never call on an event loop.
    ///
    /// A generated self-signed certificate is taken over from `previous` (a reload keeps it, in a
    /// context rebuilt with the new TLS settings). (An unchanged upstream keeps its per-loop
    /// openers and pools: ``UpstreamLoopState/opener(for:on:)``.)
    ///
    /// - Throws: ``ConfigurationError`` listing every unusable file, each at the line naming it.
    init(
        _ configuration: GatewayConfiguration,
        previous: ActiveConfiguration? = nil,
        logger: Logger = Logger(label: "wsgate")
    ) throws(ConfigurationError) {
        var issues: [ConfigurationIssue] = []
        var listenerTLS: [String: ListenerTLSContext] = [:]
        for listener in configuration.listeners {
            guard let tls = listener.tls else { continue }
            do throws(ConfigurationError) {
                listenerTLS[listener.name] = try ListenerTLSContext(
                    tls,
                    offersHTTP2: listener.http2.enabled,
                    previous: previous?.listenerTLS[listener.name]
                )
            } catch {
                issues += error.issues
            }
        }
        var adminTLS: ListenerTLSContext?
        if let tls = configuration.admin.tls {
            do throws(ConfigurationError) {
                adminTLS = try ListenerTLSContext(tls, previous: previous?.adminTLS)
            } catch {
                issues += error.issues
            }
        }
        var clusters: [String: UpstreamCluster] = [:]
        for (name, upstream) in configuration.upstreams {
            do throws(ConfigurationError) {
                let alpn = upstream.protocol == .websocketH2 ? ["h2"] : ListenerTLSContext.applicationProtocols
                clusters[name] = UpstreamCluster(
                    configuration: upstream,
                    tls: try upstream.tls.map { tls throws(ConfigurationError) in
                        try UpstreamTLSContext(tls, applicationProtocols: alpn)
                    },
                    logger: logger
                )
            } catch {
                issues += error.issues
            }
        }
        var authenticators: [String: RouteAuthenticator] = [:]
        for route in configuration.routes {
            guard let auth = route.auth else { continue }
            do throws(ConfigurationError) {
                authenticators[route.name] = try RouteAuthenticator.load(auth, previous: previous?.authenticators[route.name])
            } catch {
                issues += error.issues
            }
        }
        guard issues.isEmpty else {
            throw ConfigurationError(issues: issues.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) })
        }
        self.configuration = configuration
        self.routeTable = RouteTable(configuration: configuration)
        self.clusters = clusters
        self.authenticators = authenticators
        self.listenerTLS = listenerTLS
        self.adminTLS = adminTLS
    }
}
