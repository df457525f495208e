package porcupine

// Hooks for the external tests and benchmarks (package porcupine_test).

// SetSearchHook has every finished search pass report its partition's size
// and the configurations it explored; nil turns it off. Not safe to change
// while a check runs.
func SetSearchHook(f func(ops, configs int)) { searchHook = f }
