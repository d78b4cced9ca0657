import Foundation

/// Everything about a run that does not change from hour to hour: the users with their emails,
/// ids, devices and client IPs, the service accounts, the Zipf activity table and the fixed
/// catalogue of connectors, remote networks, resources and relays. Built once, then shared
/// read-only by all rendering threads.
final class World: @unchecked Sendable {
    let options: SampleLogOptions
    let seedKey: UInt64
    let userCount: Int
    let totalEvents: Int
    let malformedTotal: Int

    // Users.
    let zipfCumulative: [UInt64]
    let emailCSV: ByteTable
    let emailJSON: ByteTable
    let emailJSONAscii: ByteTable
    let userID: ByteTable
    let userDeviceStart: [Int32]
    let userDeviceCount: [Int32]
    let userIPStart: [Int32]
    let userIPCount: [Int32]
    let userTravelling: [Bool]
    let travellingUsers: [Int]
    let devices: ByteTable
    let ips: ByteTable

    // Service accounts.
    let serviceCount: Int
    let serviceNameCSV: ByteTable
    let serviceNameJSON: ByteTable
    let serviceID: ByteTable
    let serviceKeyCSV: ByteTable
    let serviceKeyJSON: ByteTable
    let serviceKeyID: ByteTable
    let serviceIPStart: [Int32]
    let serviceIPCount: [Int32]

    // Catalogue.
    let networkNameCSV: ByteTable
    let networkNameJSON: ByteTable
    let networkNameJSONAscii: ByteTable
    let networkID: ByteTable
    let connectorName: ByteTable
    let connectorID: ByteTable
    let resourceAddressCSV: ByteTable
    let resourceAddressJSON: ByteTable
    let resourceRuleCSV: ByteTable
    let resourceRuleJSON: ByteTable
    let resourceRuleJSONAscii: ByteTable
    let resourceID: ByteTable
    let resourceIP: ByteTable
    let resourcePort: [UInt64]
    let resourceUDP: [Bool]
    let resourceNetwork: [Int]
    let resourceCount: Int
    let relayName: ByteTable
    let relayIP: ByteTable
    let relayPort: [UInt64]
    let relayCount: Int

    /// Share of events from service accounts, per mille.
    static let servicePerMille: UInt64 = 30
    /// Distinct client IPs a travelling user should reach over the run.
    static let travellingTarget = 2_200
    /// Hard cap of distinct client IPs of any user (exact-mode comparisons rely on ≤ 4096).
    static let maxIPsPerUser = 4_000
    /// Users with special emails, by index (present when the run has that many users).
    static let specialEmails: [Int: String] = [
        3: "\"doe, jane\"@example.com",
        5: "josé.garcía@exämple.com",
        7: "🦄.unicorn7@example.com",
        8: "Anna.Lee8@Example.com",
    ]
    /// Users one of whose client IPs is IPv6.
    static let ipv6Users: Set<Int> = [6, 9]

    static let firstNames = [
        "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda",
        "david", "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica",
    ]
    static let lastNames = [
        "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
        "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas",
    ]

    init(_ options: SampleLogOptions) {
        self.options = options
        seedKey = SplitMix64.hash(options.seed, 0x7461_6C6C_7967_656E)  // "tallygen"
        let users = options.users
        userCount = users
        totalEvents = options.hours * options.eventsPerHour
        var malformed = totalEvents / 20_000
        if malformed == 0 && totalEvents >= 1_000 { malformed = 1 }
        malformedTotal = malformed

        // Zipf (s = 1) activity: user i has weight 2^40 / (i + 1); user 0 is the most active.
        // Uniform activity needs no table.
        var cumulative = [UInt64]()
        if options.activity == .zipf {
            cumulative.reserveCapacity(users)
            var total: UInt64 = 0
            for i in 0..<users {
                total += (1 << 40) / UInt64(i + 1)
                cumulative.append(total)
            }
        }
        zipfCumulative = cumulative

        // Travelling users: 2 (3 from 40 users on) among the most active, when users ≥ 20.
        var travelling: [Int] = []
        if users >= 20 { travelling = users >= 40 ? [1, 2, 4] : [1, 2] }
        travellingUsers = travelling
        let userShare = 1.0 - Double(World.servicePerMille) / 1000.0

        var emailsCSV: [[UInt8]] = [], emailsJSON: [[UInt8]] = [], emailsAscii: [[UInt8]] = []
        var ids: [[UInt8]] = [], deviceList: [[UInt8]] = [], ipList: [[UInt8]] = []
        var deviceStart: [Int32] = [], deviceCount: [Int32] = []
        var ipStart: [Int32] = [], ipCount: [Int32] = [], isTravelling: [Bool] = []
        emailsCSV.reserveCapacity(users)
        emailsJSON.reserveCapacity(users)
        ids.reserveCapacity(users)
        for u in 0..<users {
            let email =
                World.specialEmails[u]
                ?? "\(World.firstNames[u % 16]).\(World.lastNames[(u / 16) % 16])\(u)@example.com"
            emailsCSV.append(Encode.csv(email))
            emailsJSON.append(Encode.json(email))
            emailsAscii.append(Encode.json(email, asciiOnly: true))
            ids.append(Array(String(468_633 + u).utf8))

            let h = SplitMix64.hash(seedKey, UInt64(u), 1)
            let devices = 1 + Int(h % 3)
            deviceStart.append(Int32(deviceList.count))
            deviceCount.append(Int32(devices))
            for j in 0..<devices { deviceList.append(Array(String(1_223_418 + u * 3 + j).utf8)) }

            ipStart.append(Int32(ipList.count))
            if travelling.contains(u) {
                let share = cumulative.last.map { Double((1 << 40) / UInt64(u + 1)) / Double($0) } ?? 1 / Double(users)
                let expected = Double(totalEvents) * userShare * share
                let pool = World.travellingPool(expectedEvents: expected)
                for k in 0..<pool { ipList.append(World.ipv4(SplitMix64.hash(seedKey, UInt64(u), UInt64(1_000 + k)))) }
                ipCount.append(Int32(pool))
                isTravelling.append(true)
            } else {
                let n = 1 + Int((h >> 8) % 4)
                for k in 0..<n {
                    let hk = SplitMix64.hash(seedKey, UInt64(u), UInt64(1_000 + k))
                    if k == n - 1 && World.ipv6Users.contains(u) {
                        ipList.append(World.ipv6(hk))
                    } else {
                        ipList.append(World.ipv4(hk))
                    }
                }
                ipCount.append(Int32(n))
                isTravelling.append(false)
            }
        }
        emailCSV = ByteTable(emailsCSV)
        emailJSON = ByteTable(emailsJSON)
        emailJSONAscii = ByteTable(emailsAscii)
        userID = ByteTable(ids)
        userDeviceStart = deviceStart
        userDeviceCount = deviceCount
        userTravelling = isTravelling

        // Service accounts.
        let services: [(name: String, id: String, key: String, keyID: String)] = [
            ("ci-runner", "9001", "ci-runner key", "9101"),
            ("backup-bot", "9002", "nightly", "9102"),
            ("metrics, exporter 📈", "9003", "prom \"scrape\" key", "9103"),
        ]
        serviceCount = services.count
        serviceNameCSV = ByteTable(services.map { Encode.csv($0.name) })
        serviceNameJSON = ByteTable(services.map { Encode.json($0.name) })
        serviceID = ByteTable(strings: services.map(\.id))
        serviceKeyCSV = ByteTable(services.map { Encode.csv($0.key) })
        serviceKeyJSON = ByteTable(services.map { Encode.json($0.key) })
        serviceKeyID = ByteTable(strings: services.map(\.keyID))
        var sStart: [Int32] = [], sCount: [Int32] = []
        for s in 0..<services.count {
            sStart.append(Int32(ipList.count))
            sCount.append(2)
            for k in 0..<2 { ipList.append(World.ipv4(SplitMix64.hash(seedKey, 0x5E_0000 + UInt64(s), UInt64(k)))) }
        }
        serviceIPStart = sStart
        serviceIPCount = sCount
        userIPStart = ipStart
        userIPCount = ipCount
        devices = ByteTable(deviceList)
        ips = ByteTable(ipList)

        // Catalogue: remote networks, two connectors each, resources, relays.
        let networks: [(String, String)] = [
            ("🏠 Office", "21959"), ("Lab, Building 2", "31337"), ("aws-us-east-1-dev", "789012"),
            ("Datacenter \"East\"", "44102"), ("gcp-europe-west1", "55120"),
        ]
        networkNameCSV = ByteTable(networks.map { Encode.csv($0.0) })
        networkNameJSON = ByteTable(networks.map { Encode.json($0.0) })
        networkNameJSONAscii = ByteTable(networks.map { Encode.json($0.0, asciiOnly: true) })
        networkID = ByteTable(strings: networks.map(\.1))
        connectorName = ByteTable(strings: [
            "umber-angora", "faithful-pigeon", "nondescript-caterpillar", "vigilant-otter", "brave-heron",
            "quiet-lynx", "rapid-falcon", "mellow-badger", "silent-walrus", "golden-jackal",
        ])
        connectorID = ByteTable(strings: [
            "177167", "123456", "84014", "84015", "177200",
            "177201", "190001", "190002", "200310", "200311",
        ])
        let resources: [(address: String, rule: String, id: String, ip: String, port: UInt64, udp: Bool, network: Int)] = [
            ("service.home.domain.com", "service.home.domain.com", "2217397", "192.168.1.39", 443, false, 0),
            ("printer.office.lan", "192.168.1.0/24", "2217398", "192.168.1.77", 9100, false, 0),
            ("db.lab.internal", "Lab DB, primary", "3301", "10.20.0.5", 5432, false, 1),
            ("dns.lab.internal", "dns.lab.internal", "3302", "10.20.0.53", 53, true, 1),
            ("argocd.eks.twindemo.int", "argocd.eks.twindemo.int", "1234567", "10.11.12.13", 80, false, 2),
            ("app.website.com", "*.website.com", "2", "10.0.0.4", 443, false, 2),
            ("git.corp.example", "Wiki 📚, git & docs", "4410", "10.30.1.7", 22, false, 3),
            ("wiki.corp.example", "*.corp.example", "4411", "10.30.1.8", 443, false, 3),
            ("10.40.0.8", "10.40.0.0/16", "5501", "10.40.0.8", 8080, false, 4),
            ("metrics.gcp.example", "metrics.gcp.example", "5502", "10.40.2.9", 9090, false, 4),
        ]
        resourceCount = resources.count
        resourceAddressCSV = ByteTable(resources.map { Encode.csv($0.address) })
        resourceAddressJSON = ByteTable(resources.map { Encode.json($0.address) })
        resourceRuleCSV = ByteTable(resources.map { Encode.csv($0.rule) })
        resourceRuleJSON = ByteTable(resources.map { Encode.json($0.rule) })
        resourceRuleJSONAscii = ByteTable(resources.map { Encode.json($0.rule, asciiOnly: true) })
        resourceID = ByteTable(strings: resources.map(\.id))
        resourceIP = ByteTable(strings: resources.map(\.ip))
        resourcePort = resources.map(\.port)
        resourceUDP = resources.map(\.udp)
        resourceNetwork = resources.map(\.network)
        let relays: [(String, String, UInt64)] = [
            ("relaybalancer+https://relays.twingate.com", "34.105.34.33", 30013),
            ("relaybalancer+https://relays-prm.twingate.com", "35.227.140.21", 30501),
            ("relaybalancer+https://relays.twingate.com", "34.82.11.9", 30020),
        ]
        relayCount = relays.count
        relayName = ByteTable(strings: relays.map(\.0))
        relayIP = ByteTable(strings: relays.map(\.1))
        relayPort = relays.map(\.2)
    }

    /// Size of a travelling user's IP pool: drawing `expectedEvents` times uniformly from a pool
    /// of `P` addresses reaches about `P·(1 − e^(−n/P))` distinct ones; pick the smallest `P` that
    /// reaches the target, never more than `maxIPsPerUser`.
    static func travellingPool(expectedEvents n: Double) -> Int {
        var pool = travellingTarget
        while pool < maxIPsPerUser && Double(pool) * (1 - exp(-n / Double(pool))) < Double(travellingTarget) {
            pool += 25
        }
        return min(pool, maxIPsPerUser)
    }

    /// A public-looking IPv4 address from a hash.
    static func ipv4(_ h: UInt64) -> [UInt8] {
        let firsts: [UInt64] = [23, 31, 34, 45, 52, 63, 73, 81, 91, 98, 104, 145, 176, 185, 203, 212]
        let a = firsts[Int(h & 15)]
        let b = (h >> 8) & 255, c = (h >> 16) & 255, d = 1 + (h >> 24) % 254
        return Array("\(a).\(b).\(c).\(d)".utf8)
    }

    /// A documentation-range IPv6 address (canonical lowercase text) from a hash.
    static func ipv6(_ h: UInt64) -> [UInt8] {
        let x = String((h >> 16) & 0xFFFF, radix: 16), y = String((h >> 32) & 0xFFFF, radix: 16)
        let z = String(1 + (h >> 48) % 0xFFFE, radix: 16)
        return Array("2001:db8:\(x):\(y)::\(z)".utf8)
    }

    /// A user index drawn from the Zipf table, or uniformly when there is none.
    @inline(__always)
    func zipfUser(_ r: UInt64) -> Int {
        guard !zipfCumulative.isEmpty else { return Int(r.multipliedFullWidth(by: UInt64(userCount)).high) }
        return zipfCumulative.withUnsafeBufferPointer { cum in
            let target = r.multipliedFullWidth(by: cum[cum.count - 1]).high
            var lo = 0, hi = cum.count - 1
            while lo < hi {
                let mid = (lo + hi) >> 1
                if cum[mid] > target { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
    }
}
