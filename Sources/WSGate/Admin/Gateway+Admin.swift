import NIOCore

extension Gateway {
    /// Raises the open-file limit (``OpenFileLimit``), then binds every listener and the admin
    /// listener (``AdminServer``, answered by ``AdminService``).
    public func start() async throws {
        try await self.start { gateway in
            let address = gateway.activeConfiguration.configuration.admin.address
            return try await AdminServer.bind(address, group: gateway.group, service: AdminService(gateway: gateway))
        }
    }
}
