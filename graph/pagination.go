package graph

import "fleetgate/internal/fault"

// Page sizes of every connection (SPEC.md §1): entgql itself returns every
// row when neither first nor last is given, and sets no maximum.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// pageBounds applies the default page size and refuses sizes out of range.
func pageBounds(first, last *int) (*int, *int, error) {
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n != nil && (*n < 0 || *n > MaxPageSize) {
			return nil, nil, fault.Input(name, "%s must be between 0 and %d", name, MaxPageSize)
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		first = &n
	}
	return first, last, nil
}
