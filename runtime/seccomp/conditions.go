package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// ruleConditions turns the args of one OCI syscall rule into the
// condition lists of the libseccomp rules that implement it.
//
// Conditions on different arguments are ANDed, as in one libseccomp rule.
// libseccomp refuses two conditions on the same argument in one rule, so,
// as the other OCI runtimes do, those are split into separate rules, which
// makes them alternatives (OR). Unlike a plain split of every condition
// into its own rule, the conditions on the other arguments are kept in
// each of those rules: args [{0 EQ 1}, {1 EQ 5}, {1 EQ 6}] become the two
// rules "a0==1 && a1==5" and "a0==1 && a1==6".
//
// No args gives one rule without conditions.
func ruleConditions(args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	// Group the conditions by argument index, in the order they appear.
	var order []uint
	byIndex := map[uint][]libseccomp.ScmpCondition{}
	for i, arg := range args {
		cond, err := libseccomp.MakeCondition(arg.Index, operators[arg.Op], arg.Value, arg.ValueTwo)
		if err != nil {
			return nil, fmt.Errorf("args[%d]: %w", i, err)
		}
		if _, seen := byIndex[arg.Index]; !seen {
			order = append(order, arg.Index)
		}
		byIndex[arg.Index] = append(byIndex[arg.Index], cond)
	}

	// One rule per way of picking one condition for each argument.
	rules := [][]libseccomp.ScmpCondition{nil}
	for _, index := range order {
		var next [][]libseccomp.ScmpCondition
		for _, rule := range rules {
			for _, cond := range byIndex[index] {
				extended := append(append([]libseccomp.ScmpCondition(nil), rule...), cond)
				next = append(next, extended)
			}
		}
		rules = next
	}
	return rules, nil
}
