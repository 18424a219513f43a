/// How the gateway stops on SIGTERM/SIGINT (``Gateway/drain()``): it stops accepting at once, lets
/// live sessions go on for `grace`, then sends close 1001 to both legs of every session still open
/// and waits up to `timeout` for their close handshakes before it exits.
struct ShutdownConfiguration: Sendable, Equatable {
    /// How long live sessions keep exchanging messages after the listeners closed, so that messages
    /// in flight arrive and clients that reconnect elsewhere on their own can do so. `.zero` sends the
    /// closes at once. Default: 2 s.
    var grace: Duration
    /// How long to wait, after the closes were sent, for the sessions' close handshakes; what is
    /// still open then is dropped when the process exits. `.zero` does not wait. Default: 10 s.
    var timeout: Duration

    /// The grace period used when the configuration does not set one: 2 seconds.
    static let defaultGrace = Duration.seconds(2)
    /// The close-handshake wait used when the configuration does not set one: 10 seconds.
    static let defaultTimeout = Duration.seconds(10)

    /// Creates a shutdown configuration; defaults: grace 2 s, timeout 10 s.
    init(grace: Duration = ShutdownConfiguration.defaultGrace, timeout: Duration = ShutdownConfiguration.defaultTimeout) {
        self.grace = grace
        self.timeout = timeout
    }
}

/// How the configuration file is reloaded besides SIGHUP and `POST /reload` (``Gateway/reload()``).
struct ReloadConfiguration: Sendable, Equatable {
    /// How often the configuration file is checked for changes (size, modification time); a change
    /// reloads it as SIGHUP does. `.zero` disables the check. Default: `.zero`. The same watch also
    /// runs, at the shorter interval, when a TLS listener sets `tls.watch_interval`: one watcher
    /// covers the configuration file and every TLS file.
    var watchInterval: Duration

    /// Creates a reload configuration; default: no watching.
    init(watchInterval: Duration = .zero) {
        self.watchInterval = watchInterval
    }
}
