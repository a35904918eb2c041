//go:build tracegen_live

package energy

// With the tracegen_live build tag, programs use Electricity Maps when
// TRACEGEN_ELECTRICITYMAPS_TOKEN is set (see package runtime/impact/live).
import _ "github.com/tracegen-dev/tracegen/runtime/impact/live"
