import NIOConcurrencyHelpers
import NIOCore

extension Gateway {
    /// What changes while the gateway runs, kept in one value behind one lock (``Gateway/state``):
    /// none of it is touched on the frame path, and each change is short, so one lock costs nothing
    /// and no two fields can be seen out of step.
    struct State: Sendable {
        /// What new connections are served with; swapped whole by a reload.
        var active: ActiveConfiguration
        /// Version, digest and reload outcome of the served configuration (``configurationStatus``).
        var status: ConfigurationStatus
        /// The task checking the configuration and TLS files for changes (``Gateway/startWatching()``).
        var watcher: Task<Void, Never>?
        /// The reload running or last run; the next one waits for it, so reloads never overlap.
        var reloads: Task<Result<ConfigurationStatus, ConfigurationError>, Never>?
        /// Where a graceful shutdown stands (``phase``).
        var drain = DrainStateMachine()
        /// The bound WebSocket listeners by name, each with the configuration it was bound with.
        var listeners: [String: BoundListener] = [:]
        var adminChannel: (any Channel)?
        /// The bound address of each listener, the admin listener included, by name.
        var boundAddresses: [String: SocketAddress] = [:]
        /// Where each TLS listener counts its failed TLS handshakes, by listener name.
        var tlsFailures: [String: TLSHandshakeFailures] = [:]
        /// True once every listener is bound, false again from ``shutdown()`` on (`/readyz`).
        var listening = false
    }

    /// A bound WebSocket listener.
    struct BoundListener: Sendable {
        var configuration: ListenerConfiguration
        var channel: any Channel
    }

    /// The configuration new connections are served with now.
    var activeConfiguration: ActiveConfiguration {
        self.state.withLockedValue { $0.active }
    }
}
