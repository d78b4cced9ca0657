/// What a task does: read objects into a partial, or merge one range of users of a merging
/// job's partials into rows (docs/design.md §3.9). Stored in the `kind` column.
package enum TaskKind: String, Sendable {
    case aggregate
    case merge
}
