extension Gateway {
    /// Raises the open-file limit (``OpenFileLimit``), then binds every listener and the admin listener.
    public func start() async throws {
        try await self.start(admin: { gateway in
            try await AdminServer.bind(
                gateway.activeConfiguration.configuration.admin.address,
                group: gateway.group,
                service: AdminService(gateway: gateway)
            )
        })
    }

    /// What `POST /reload` answers.
    func reloadForAdmin() async -> AdminReload.Outcome {
        guard self.phase == .serving else { return .unavailable("the gateway is shutting down") }
        do {
            let status = try await self.reload()
            return .reloaded(status)
        } catch {
            return .rejected(error.description)
        }
    }
}
