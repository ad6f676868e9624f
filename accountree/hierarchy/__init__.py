"""Account hierarchy: group heads, paths, joint ventures, the closure roll-ups read, and issues.

The rule (control, joint ventures, precedence of sources) is in README.md of this folder. Other
capabilities read the tables built by `accountree.hierarchy.stage` and call
`accountree.hierarchy.service` for trees and manual links.
"""
