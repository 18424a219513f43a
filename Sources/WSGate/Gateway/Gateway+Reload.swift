import Foundation
import Logging
import NIOConcurrencyHelpers

extension Gateway {
    /// Re-reads the configuration file (or, for a gateway built from a value, the current
    /// configuration's TLS files) and, when everything is usable, serves new connections with it.
    ///
    /// New connections get the new routes, upstreams, limits and certificates at once; live sessions
    /// keep the route and limits they started with. Listeners: one with the same name, address and
    /// kind stays bound; a new one is bound; a removed one is closed, while the sessions it accepted
    /// keep running (``ListenerPlan``). When the file is invalid, a TLS file unusable or a new
    /// listener cannot be bound, nothing changes: the error is logged, kept in
    /// ``configurationStatus`` as `lastReloadError`, and thrown. Reloads run one at a time.
    ///
    /// Called on SIGHUP by `wsgate run`, by `POST /reload` on the admin listener, and when a watched
    /// file changes (`reload.watch_interval`, `tls.watch_interval`).
    ///
    /// Upstreams: each reload builds new `UpstreamCluster`s; the old ones live on only as long as
    /// handshakes in progress hold the old configuration, and one-to-one upstream connections end
    /// with their sessions. HTTP/2 pools: see ``adoptUpstreams(_:)``.
    ///
    /// - Returns: the status of the configuration now served.
    @discardableResult
    func reload() async throws(ConfigurationError) -> ConfigurationStatus {
        let task = self.state.withLockedValue { state in
            let earlier = state.reloads
            let next = Task { [self] in
                _ = await earlier?.value
                return await self.performReload()
            }
            state.reloads = next
            return next
        }
        return try await task.value.get()
    }

    private func performReload() async -> Result<ConfigurationStatus, ConfigurationError> {
        guard self.phase == .serving else {
            return .failure(self.issue("the gateway is shutting down; reload refused"))
        }
        let current = self.activeConfiguration
        let fresh: ActiveConfiguration
        let file: ConfigurationFile?
        do throws(ConfigurationError) {
            file = try self.configurationFile.map(ConfigurationFile.load)
            fresh = try ActiveConfiguration(file?.configuration ?? current.configuration, previous: current, logger: self.logger)
        } catch {
            return .failure(self.rejectReload(error))
        }
        let configuration = fresh.configuration

        // Bind the new listeners first: if one cannot be bound, the reload is refused before anything changed.
        let bound = self.state.withLockedValue { $0.listeners.values.map(\.configuration) }
        let plan = ListenerPlan(bound: bound, wanted: configuration.listeners)
        var newlyBound: [String] = []
        for listener in plan.added {
            do {
                try await self.bind(listener)
                newlyBound.append(listener.name)
            } catch {
                for name in newlyBound { await self.closeListener(named: name) }
                return .failure(self.rejectReload(self.bindIssue(listener, in: configuration, error)))
            }
        }

        self.services.memory.budget.withLockedValue { $0 = MemoryBudget(limit: fresh.configuration.limits.maxMemory) }
        let status = self.state.withLockedValue { state in
            state.active = fresh
            for listener in configuration.listeners where plan.kept.contains(listener.name) {
                state.listeners[listener.name]?.configuration = listener
            }
            state.status = ConfigurationStatus(
                version: state.status.version + 1,
                file: file?.path,
                sha256: file?.sha256,
                loadedAt: Date()
            )
            return state.status
        }
        self.retire(Set(current.clusters.keys).subtracting(configuration.upstreams.keys).sorted())
        await self.adoptUpstreams(fresh)

        for name in plan.removed {
            await self.closeListener(named: name)
        }
        var bindErrors: [ConfigurationIssue] = []
        for listener in plan.addedAfterClose {
            do {
                try await self.bind(listener)
            } catch {
                bindErrors += self.bindIssue(listener, in: configuration, error).issues
            }
        }
        let (oldAdmin, newAdmin) = (current.configuration.admin, configuration.admin)
        if oldAdmin.address != newAdmin.address || (oldAdmin.tls == nil) != (newAdmin.tls == nil) {
            self.logger.warning(
                "admin.address or admin.tls on/off changed; the admin listener changes at the next start, not on reload"
            )
        }
        self.startWatching()
        self.logger.info(
            "configuration reloaded; new connections use it",
            metadata: [
                "wsgate.config.version": "\(status.version)",
                "wsgate.config.sha256": "\(status.sha256 ?? "-")",
                "wsgate.listeners.kept": "\(plan.kept.joined(separator: ","))",
                "wsgate.listeners.added": "\((plan.added + plan.addedAfterClose).map(\.name).joined(separator: ","))",
                "wsgate.listeners.removed": "\(plan.removed.joined(separator: ","))",
            ]
        )
        guard bindErrors.isEmpty else {
            // The configuration is in place, but a listener whose address was freed by a removed one
            // could not take it: report it like a rejected reload so it is seen.
            return .failure(self.rejectReload(ConfigurationError(issues: bindErrors)))
        }
        return .success(status)
    }

    /// Upstreams that a reload removed: logged. Their sessions keep running; one-to-one upstream
    /// connections end with their sessions, pooled ones are retired by ``adoptUpstreams(_:)``.
    private func retire(_ upstreams: [String]) {
        guard !upstreams.isEmpty else { return }
        self.logger.info("upstreams removed; their sessions keep running", metadata: ["wsgate.upstreams": "\(upstreams)"])
    }

    /// Logs a refused reload and keeps it as the status's last reload error.
    private func rejectReload(_ error: ConfigurationError) -> ConfigurationError {
        self.logger.error("reload rejected; the current configuration keeps serving\n\(error)")
        self.state.withLockedValue { state in
            state.status.lastReloadError = error.description
            state.status.lastReloadFailedAt = Date()
        }
        return error
    }

    private func issue(_ message: String) -> ConfigurationError {
        ConfigurationError(issues: [
            ConfigurationIssue(file: self.configurationFile ?? "configuration", line: 0, column: 0, keyPath: "", message: message)
        ])
    }

    /// A listener that cannot be bound, named by its key path (the decoded value has no line).
    private func bindIssue(
        _ listener: ListenerConfiguration,
        in configuration: GatewayConfiguration,
        _ error: any Error
    ) -> ConfigurationError {
        let index = configuration.listeners.firstIndex { $0.name == listener.name } ?? 0
        return ConfigurationError(issues: [
            ConfigurationIssue(
                file: self.configurationFile ?? "configuration",
                line: 0,
                column: 0,
                keyPath: "listeners[\(index)].address",
                message: "cannot bind listener '\(listener.name)' to \(listener.address): \(error)"
            )
        ])
    }

    /// (Re)starts checking the configuration file and the TLS files every interval (the shortest of
    /// `reload.watch_interval` and the `watch_interval` of the listeners' and the admin listener's
    /// `tls`, ignoring zeros) and reloads when one changed. Nothing is watched when every interval is
    /// 0 or there is no file.
    func startWatching() {
        let configuration = self.activeConfiguration.configuration
        let intervals = ([configuration.reload.watchInterval] + configuration.serverTLS.map(\.watchInterval)).filter {
            $0 > .zero
        }
        let watched = WatchedFileFingerprints.paths(in: configuration, configurationFile: self.configurationFile)
        let task: Task<Void, Never>? =
            if let interval = intervals.min(), !watched.isEmpty {
                // The baseline is taken now, not when the task first runs: an edit made right after
                // start (or a reload) returns must not become the baseline.
                Task.detached { [weak self, baseline = WatchedFileFingerprints(paths: watched)] in
                    var last = baseline
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        guard !Task.isCancelled, let self else { return }
                        let now = WatchedFileFingerprints(paths: watched)
                        guard now != last else { continue }
                        last = now
                        self.logger.info("configuration or TLS files changed; reloading")
                        _ = try? await self.reload()
                    }
                }
            } else {
                nil
            }
        self.state.withLockedValue { state in
            state.watcher?.cancel()
            state.watcher = task
        }
    }
}

/// The size and modification time of each watched file (`nil` when it cannot be read), to notice
/// an edit or a certificate renewal without reading the files themselves.
struct WatchedFileFingerprints: Equatable {
    struct Fingerprint: Equatable {
        var size: Int?
        var modified: Date?
    }

    let fingerprints: [String: Fingerprint]

    init(paths: [String]) {
        var fingerprints: [String: Fingerprint] = [:]
        for path in paths {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            fingerprints[path] = Fingerprint(
                size: (attributes?[.size] as? NSNumber)?.intValue,
                modified: attributes?[.modificationDate] as? Date
            )
        }
        self.fingerprints = fingerprints
    }

    /// The configuration file (when there is one) and every file the configuration's `tls` sections
    /// name (listeners, the admin listener and upstreams).
    static func paths(in configuration: GatewayConfiguration, configurationFile: String?) -> [String] {
        var files: [ConfiguredFile] = []
        for tls in configuration.serverTLS {
            if case .files(let pairs) = tls.certificates {
                files += pairs.flatMap { [$0.certificate, $0.privateKey] }
            }
            if let clientAuth = tls.clientAuthentication { files.append(clientAuth.caFile) }
        }
        for upstream in configuration.upstreams.values {
            guard let tls = upstream.tls else { continue }
            if let ca = tls.caFile { files.append(ca) }
            if let pair = tls.clientCertificate { files += [pair.certificate, pair.privateKey] }
        }
        return Array(Set(files.map(\.path) + (configurationFile.map { [$0] } ?? []))).sorted()
    }
}

extension GatewayConfiguration {
    /// The `tls` sections of the listeners and of the admin listener.
    var serverTLS: [ListenerTLSConfiguration] {
        self.listeners.compactMap(\.tls) + (self.admin.tls.map { [$0] } ?? [])
    }
}
