// Command initcost links runtime/pii and does nothing: run with
// GODEBUG=inittrace=1 it shows what the package's initialisation costs.
package main

import _ "github.com/tracegen-dev/tracegen/runtime/pii"

func main() {}
