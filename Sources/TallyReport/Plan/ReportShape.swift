/// What a report aggregates, as the engine sees it (docs/design.md §1.10): the key of its rows
/// and the measures each row keeps. The reports are instances of it, not copies of one another:
/// active-users (and its inactive projection) by user, network-summary by Resource,
/// resource-access by user and Resource.
public struct ReportShape: Sendable, Hashable {
    /// What one row of the partials is.
    public let key: RowKey
    /// Which value each row's top-10 list counts.
    public let top: TopValue
    /// Whether rows count distinct devices and client IPs.
    public let countsDevicesAndClientIPs: Bool
    /// Whether rows keep the Resource's address or rule, its Remote Network and the protocols.
    public let namesResources: Bool

    /// The value a row's top-10 list counts connections by.
    public enum TopValue: Sendable, Hashable {
        case none
        case clientIP
        case addressReached
    }

    /// Whether service accounts' events are left out: a report by user has no row for them.
    public var skipsServiceAccounts: Bool { key != .resource }

    /// Whether the rows need an event's Resource fields: every shape but by user's.
    public var readsResources: Bool { key != .user }

    /// By user: counters, devices, client IPs and the top client IPs.
    public static let byUser = ReportShape(key: .user, top: .clientIP, countsDevicesAndClientIPs: true, namesResources: false)
    /// By Resource: counters, the top addresses reached, and the Resource's names.
    public static let byResource = ReportShape(
        key: .resource, top: .addressReached, countsDevicesAndClientIPs: false, namesResources: true)
    /// By user and Resource: counters, devices, client IPs and the Resource's names.
    public static let byUserAndResource = ReportShape(
        key: .userAndResource, top: .none, countsDevicesAndClientIPs: true, namesResources: true)

    /// The shape of partials whose rows are keyed by `key`.
    public init(key: RowKey) {
        switch key {
        case .user: self = .byUser
        case .resource: self = .byResource
        case .userAndResource: self = .byUserAndResource
        }
    }

    private init(key: RowKey, top: TopValue, countsDevicesAndClientIPs: Bool, namesResources: Bool) {
        self.key = key
        self.top = top
        self.countsDevicesAndClientIPs = countsDevicesAndClientIPs
        self.namesResources = namesResources
    }
}
