/// The JSON both event formats write alike: the Connector's `ANALYTICS` lines and the S3 sync's
/// lines name the connector, a relay, the remote network, the resource and a service account
/// with the same objects and fields (docs/design.md §2.1). One function each writes them for
/// both renderers, so the two formats cannot drift apart; what a format adds around or inside
/// them stays with its renderer.
enum EventJSON {
    /// `{"id":"…","name":"…"}`: the connector that carried the connection.
    @inline(__always)
    static func connector(_ connector: Int, _ world: World, _ w: inout LineWriter) {
        w.lit("{\"id\":\"")
        world.connectorID.write(connector, to: &w)
        w.lit("\",\"name\":\"")
        world.connectorName.write(connector, to: &w)
        w.lit("\"}")
    }

    /// `{"ip":"…","name":"…","port":…}`: a relay the connection went through.
    @inline(__always)
    static func relay(_ relay: Int, _ world: World, _ w: inout LineWriter) {
        w.lit("{\"ip\":\"")
        world.relayIP.write(relay, to: &w)
        w.lit("\",\"name\":\"")
        world.relayName.write(relay, to: &w)
        w.lit("\",\"port\":")
        w.uint(world.relayPort[relay])
        w.byte(0x7D)
    }

    /// `{"id":"…","name":"…"}`: the remote network of `resource`; with `ascii`, the name's
    /// non-ASCII characters are `\u` escapes (as some S3 lines write them).
    @inline(__always)
    static func remoteNetwork(ofResource resource: Int, _ world: World, ascii: Bool, _ w: inout LineWriter) {
        let network = world.resourceNetwork[resource]
        w.lit("{\"id\":\"")
        world.networkID.write(network, to: &w)
        w.lit("\",\"name\":\"")
        (ascii ? world.networkNameJSONAscii : world.networkNameJSON).write(network, to: &w)
        w.lit("\"}")
    }

    /// `"address":"…","applied_rule":"…","id":"…"`: the fields a resource object opens with in
    /// both formats (the S3 one goes on with `ip` and `port`); `ascii` as for `remoteNetwork`.
    @inline(__always)
    static func resourceFields(_ resource: Int, _ world: World, ascii: Bool, _ w: inout LineWriter) {
        w.lit("\"address\":\"")
        world.resourceAddressJSON.write(resource, to: &w)
        w.lit("\",\"applied_rule\":\"")
        (ascii ? world.resourceRuleJSONAscii : world.resourceRuleJSON).write(resource, to: &w)
        w.lit("\",\"id\":\"")
        world.resourceID.write(resource, to: &w)
        w.byte(0x22)
    }

    /// `"id":"…","name":"…"`: the fields a service account object opens with in both formats
    /// (the S3 one goes on with its key).
    @inline(__always)
    static func serviceAccountFields(_ service: Int, _ world: World, _ w: inout LineWriter) {
        w.lit("\"id\":\"")
        world.serviceID.write(service, to: &w)
        w.lit("\",\"name\":\"")
        world.serviceNameJSON.write(service, to: &w)
        w.byte(0x22)
    }
}
