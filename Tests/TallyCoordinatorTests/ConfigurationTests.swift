import Foundation
import TallyFormats
import TallyProtocol
import TallyServices
import TallySources
import TallyStore
import Testing

@testable import TallyCoordinator

/// `tally.yaml`: a good file is read whole; a bad one names the field at fault.
@Suite struct ConfigurationTests {
    /// A key the coordinator does not know is an error naming it and the nearest known key, at
    /// the top and in nested sections and lists; a key far from every known one is named alone.
    @Test(arguments: [
        ("result_ttl_day: 1\n", "result_ttl_day", "did you mean 'result_ttl_days'?"),
        ("shard_cache:\n  max_byte: 10\n", "shard_cache.max_byte", "did you mean 'shard_cache.max_bytes'?"),
        ("sources:\n  - {name: a, kind: file, url: /x, fromat: twingate-csv}\n", "sources[0].fromat", "did you mean 'sources[0].format'?"),
        (
            "notifications:\n  targets:\n    - {name: ops, kind: webhook, url: 'http://x', secrets: s}\n",
            "notifications.targets[0].secrets",
            "did you mean 'notifications.targets[0].secret'?"
        ),
        ("colour: blue\n", "colour", "unknown key"),
    ])
    func unknownKeysAreRefusedNamingTheNearestKnownOne(text: String, field: String, reason: String) {
        do {
            _ = try CoordinatorConfiguration.parse("data_dir: /tmp/x\n" + text)
            Issue.record("\(field) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.field == field, "\(error)")
            #expect(error.reason.hasSuffix(reason), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aCompleteFile() throws {
        let text = """
            listen: 0.0.0.0:9090
            data_dir: /var/lib/tally
            lease_seconds: 20
            max_attempts: 5
            max_lease_expiries: 2
            result_ttl_days: 3.5
            sources:
              - name: prod
                kind: s3
                url: s3://logs-bucket/twingate/
                format: twingate-s3
                endpoint: https://minio.internal:9000
                region: eu-west-1
              - name: archive
                kind: http
                url: https://logs.example.com/archive/
                format: twingate-csv
              - name: local
                kind: file
                url: /srv/logs
            """
        let c = try CoordinatorConfiguration.parse(text)
        #expect(c.listenHost == "0.0.0.0")
        #expect(c.listenPort == 9090)
        #expect(c.dataDirectory == "/var/lib/tally")
        #expect(c.leaseSeconds == 20)
        #expect(c.maxAttempts == 5)
        #expect(c.maxLeaseExpiries == 2)
        #expect(c.resultTTLDays == 3.5)
        #expect(c.sources.count == 3)
        #expect(
            c.sources["prod"]
                == ConfiguredSource(
                    address: SourceAddress(
                        kind: .s3, url: "s3://logs-bucket/twingate/", endpoint: "https://minio.internal:9000", region: "eu-west-1"),
                    format: .twingateS3))
        #expect(
            c.sources["archive"]
                == ConfiguredSource(address: SourceAddress(kind: .http, url: "https://logs.example.com/archive/"), format: .twingateCSV))
        #expect(c.sources["local"] == ConfiguredSource(address: SourceAddress(kind: .file, url: "/srv/logs"), format: .auto))
    }

    @Test func defaultsForAnEmptyishFile() throws {
        let c = try CoordinatorConfiguration.parse("listen: \"[::1]:0\"\n")
        #expect(c.listenHost == "::1")
        #expect(c.listenPort == 0)
        #expect(c.leaseSeconds == 30)
        #expect(c.maxAttempts == 3)
        #expect(c.sources.isEmpty)
    }

    @Test(arguments: [
        ("sources:\n  - name: a\n    kind: ftp\n    url: ftp://x/\n", "sources[0].kind"),
        (
            "sources:\n  - name: a\n    kind: file\n    url: /x\n  - name: b\n    kind: file\n    url: /y\n    format: parquet\n",
            "sources[1].format"
        ),
        ("sources:\n  - name: a\n    kind: file\n    url: /x\n  - name: a\n    kind: file\n    url: /y\n", "sources[1].name"),
        ("listen: localhost\n", "listen"),
        ("listen: localhost:99999\n", "listen"),
        ("lease_seconds: 0\n", "lease_seconds"),
        ("lease_seconds: soon\n", "lease_seconds"),
        ("max_attempts: 0\n", "max_attempts"),
        ("result_ttl_days: -1\n", "result_ttl_days"),
        ("stragglers:\n  after_done_share: 1.5\n", "stragglers.after_done_share"),
        ("stragglers:\n  slower_than_median: 0.5\n", "stragglers.slower_than_median"),
        ("source_retry:\n  stall_seconds: 0\n", "source_retry.stall_seconds"),
        ("min_free_bytes: -1\n", "min_free_bytes"),
        ("request_head_timeout_seconds: 0\n", "request_head_timeout_seconds"),
        ("max_active_jobs_per_user: 0\n", "max_active_jobs_per_user"),
        ("blobs:\n  kind: s3\n  url: https://bucket/x\n", "blobs.url"),
        ("blobs:\n  kind: s3\n  url: s3:///x\n", "blobs.url"),
        ("blobs:\n  kind: s3\n  url: s3://b/\n  endpoint: ftp://x\n", "blobs.endpoint"),
        ("blobs:\n  kind: local\n  url: s3://b/\n", "blobs"),
        ("blobs:\n  kind: gcs\n", "blobs.kind"),
    ])
    func errorsNameTheField(text: String, field: String) throws {
        let error = try #require(throws: ConfigurationError.self) { try CoordinatorConfiguration.parse(text, file: "conf/tally.yaml") }
        #expect(error.field == field, "\(error)")
        #expect(error.file == "conf/tally.yaml")
        #expect(error.description.hasPrefix("conf/tally.yaml: \(field): "), "\(error)")
    }

    /// `blobs:` chooses where files live: the data directory unless an S3 folder is named.
    @Test func blobSettings() throws {
        #expect(try CoordinatorConfiguration.parse("data_dir: /x\n").blobs == .local)
        let shared = try CoordinatorConfiguration.parse(
            "data_dir: /x\nblobs: {kind: s3, url: 's3://files/tally/', region: eu-west-3, endpoint: 'http://127.0.0.1:9000'}\n")
        #expect(shared.blobs == .s3(url: "s3://files/tally/", region: "eu-west-3", endpoint: "http://127.0.0.1:9000"))
        // Shared files are read by a replica that did not fold them: no head starts.
        #expect(shared.effectiveMergeMemoryBytes == 0)
    }

    @Test func stragglerSettings() throws {
        let c = try CoordinatorConfiguration.parse(
            """
            stragglers:
              after_done_share: 0.9
              slower_than_median: 4
              floor_seconds: 60
              max_copy_share: 0
            """)
        #expect(c.stragglers.afterDoneShare == 0.9)
        #expect(c.stragglers.slowerThanMedian == 4)
        #expect(c.stragglers.floorSeconds == 60)
        #expect(c.stragglers.maxCopyShare == 0)
        #expect(try CoordinatorConfiguration.parse("listen: \"127.0.0.1:1\"\n").stragglers == StragglerPolicy())
    }

    @Test func anUnknownFormatIsNamed() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try CoordinatorConfiguration.parse("sources:\n  - name: a\n    kind: file\n    url: /x\n    format: parquet\n")
        }
        #expect(error.field == "sources[0].format")
        #expect(error.reason.contains("parquet"))
    }

    @Test func aMissingSourceKeyIsNamed() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try CoordinatorConfiguration.parse("sources:\n  - name: a\n    url: /x\n")
        }
        #expect(error.field == "sources[0].kind", "\(error)")
    }

    @Test func notYAML() throws {
        let error = try #require(throws: ConfigurationError.self) { try CoordinatorConfiguration.parse("listen: [unclosed\n") }
        #expect(!error.description.isEmpty)
    }

    @Test func loadNamesAMissingFile() throws {
        let path = NSTemporaryDirectory() + "no-such-tally-\(UUID().uuidString).yaml"
        let error = try #require(throws: ConfigurationError.self) { try CoordinatorConfiguration.load(path: path) }
        #expect(error.file == path)
    }

    @Test func schedulesNotificationsDirectoriesAndActivityLog() throws {
        let secret = "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()
        let c = try CoordinatorConfiguration.parse(
            """
            public_url: https://tally.example.com/
            job_retention_days: 30
            user_directories:
              - {name: staff, url: /etc/tally/users.csv}
            notifications:
              retry_seconds: [1, 2]
              targets:
                - {name: ops, kind: webhook, url: "https://hooks.example.com/t", secret: "\(secret)"}
            schedules:
              - {name: monthly, source: prod, window: previous-month, timezone: Europe/Paris, every: monthly, day: 1, at: "06:00", notify: [ops]}
              - {name: idle, report: inactive-users, source: prod, window: previous-day, every: weekly, weekday: monday, at: "07:30", inactive_days: 30}
            activity_log: {default: off, retention_days: 30}
            shard_cache: {max_bytes: 1048576, safety_margin_seconds: 600}
            """)
        #expect(c.shardCache.maximumBytes == 1 << 20 && c.shardCache.safetyMarginSeconds == 600)
        #expect(try CoordinatorConfiguration.parse("shard_cache: {max_bytes: 0}\n").shardCache.isEnabled == false)
        #expect(c.notifications.publicURL == "https://tally.example.com" && c.notifications.retrySeconds == [1, 2])
        #expect(c.notifications.targets["ops"]?.key == Array(repeating: 7, count: 24))
        #expect(c.userDirectories["staff"] == "/etc/tally/users.csv" && c.jobRetentionDays == 30)
        #expect(
            c.schedules.map(\.name) == ["monthly", "idle"] && c.schedules[1].inactiveDays == 30 && c.schedules[0].report == "active-users")
        #expect(c.activityLog.defaultSetting == .off && c.activityLog.retentionDays == 30)
        for (text, field) in [
            ("schedules:\n  - {name: x, source: s, window: yesterday, every: daily, at: \"06:00\"}\n", "schedules[0].window"),
            ("schedules:\n  - {name: x, source: s, window: previous-day, every: weekly, at: \"06:00\"}\n", "schedules[0].weekday"),
            ("notifications:\n  targets:\n    - {name: t, kind: webhook, url: \"https://x\", secret: nope}\n", "notifications.targets[0]"),
            ("job_retention_days: 1\n", "job_retention_days"),
            ("shard_cache: {max_bytes: -1}\n", "shard_cache.max_bytes"),
            ("shard_cache: {safety_margin_seconds: -5}\n", "shard_cache.safety_margin_seconds"),
        ] {
            #expect(throws: ConfigurationError.self) { try CoordinatorConfiguration.parse(text) }
            do { _ = try CoordinatorConfiguration.parse(text) } catch let error as ConfigurationError {
                #expect(error.field == field, "\(error)")
            }
        }
    }
}
