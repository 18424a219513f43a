import Foundation
import Logging
import NIOConcurrencyHelpers

extension Gateway {
    /// Re-reads every certificate, key and CA file and, when all are usable, serves new connections
    /// with them: new TLS handshakes use the new certificates, established connections keep theirs.
    /// When one is not, nothing changes: the current certificates keep serving and the problems are
    /// logged (each naming its file and configuration line) and thrown.
    ///
    /// Called on SIGHUP by `wsgate run` and when the files change (`tls.watch_interval`). Blocking
    /// disk I/O: never call on an event loop.
    public func reloadCertificates() throws(ConfigurationError) {
        let current = self.active.withLockedValue { $0 }
        let fresh: ActiveConfiguration
        do throws(ConfigurationError) {
            fresh = try ActiveConfiguration(current.configuration, previous: current, logger: self.logger)
        } catch {
            self.logger.error("certificate reload rejected; the current certificates keep serving\n\(error)")
            throw error
        }
        self.active.withLockedValue { $0 = fresh }
        self.logger.info("certificates reloaded; new TLS handshakes use them")
    }

    /// Starts checking the TLS files every `watch_interval` (the shortest among TLS listeners; none
    /// when there is no file to watch or every interval is 0) and reloads when one changed.
    func startWatchingCertificates() {
        let configuration = self.active.withLockedValue { $0.configuration }
        let intervals = configuration.listeners.compactMap { $0.tls?.watchInterval }.filter { $0 > .zero }
        let watched = TLSFileFingerprints.paths(in: configuration)
        guard let interval = intervals.min(), !watched.isEmpty else { return }
        let task = Task.detached { [weak self] in
            var last = TLSFileFingerprints(paths: watched)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                let now = TLSFileFingerprints(paths: watched)
                guard now != last else { continue }
                last = now
                self.logger.info("TLS files changed; reloading certificates")
                try? self.reloadCertificates()
            }
        }
        self.certificateWatcher.withLockedValue { $0 = task }
    }
}

/// The size and modification time of each watched file (`nil` when it cannot be read), to notice
/// a certificate renewal without reading the files themselves.
struct TLSFileFingerprints: Equatable {
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

    /// Every file the configuration's `tls` sections name.
    static func paths(in configuration: GatewayConfiguration) -> [String] {
        var files: [ConfiguredFile] = []
        for listener in configuration.listeners {
            guard let tls = listener.tls else { continue }
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
        return Array(Set(files.map(\.path))).sorted()
    }
}
