package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/stretchr/testify/require"
)

func TestRuleConditions(t *testing.T) {
	cond := func(index uint, op libseccomp.ScmpCompareOp, a, b uint64) libseccomp.ScmpCondition {
		return libseccomp.ScmpCondition{Argument: index, Op: op, Operand1: a, Operand2: b}
	}
	eq := libseccomp.CompareEqual
	tests := []struct {
		name string
		args []specs.LinuxSeccompArg
		want [][]libseccomp.ScmpCondition
	}{
		{
			name: "no args: one unconditional rule",
			args: nil,
			want: [][]libseccomp.ScmpCondition{nil},
		},
		{
			name: "different arguments are ANDed in one rule",
			args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 2, Value: 3, Op: specs.OpNotEqual}},
			want: [][]libseccomp.ScmpCondition{{cond(0, eq, 1, 0), cond(2, libseccomp.CompareNotEqual, 3, 0)}},
		},
		{
			name: "masked equal keeps value as the mask and valueTwo as the datum",
			args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, ValueTwo: 0, Op: specs.OpMaskedEqual}},
			want: [][]libseccomp.ScmpCondition{{cond(0, libseccomp.CompareMaskedEqual, 0x7e020000, 0)}},
		},
		{
			name: "the same argument twice: two rules",
			args: []specs.LinuxSeccompArg{{Index: 0, Value: 3, Op: specs.OpEqualTo}, {Index: 0, Value: 5, Op: specs.OpEqualTo}},
			want: [][]libseccomp.ScmpCondition{{cond(0, eq, 3, 0)}, {cond(0, eq, 5, 0)}},
		},
		{
			name: "the other arguments stay in each split rule",
			args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1, Op: specs.OpEqualTo},
				{Index: 1, Value: 5, Op: specs.OpEqualTo},
				{Index: 1, Value: 6, Op: specs.OpEqualTo},
				{Index: 2, Value: 7, Op: specs.OpEqualTo},
				{Index: 2, Value: 8, Op: specs.OpEqualTo},
			},
			want: [][]libseccomp.ScmpCondition{
				{cond(0, eq, 1, 0), cond(1, eq, 5, 0), cond(2, eq, 7, 0)},
				{cond(0, eq, 1, 0), cond(1, eq, 5, 0), cond(2, eq, 8, 0)},
				{cond(0, eq, 1, 0), cond(1, eq, 6, 0), cond(2, eq, 7, 0)},
				{cond(0, eq, 1, 0), cond(1, eq, 6, 0), cond(2, eq, 8, 0)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ruleConditions(tt.args)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSameArgumentTwiceBuilds(t *testing.T) {
	// libseccomp refuses this in a single rule; the split must make it load.
	_, _, err := Build(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"personality"}, Action: specs.ActErrno,
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 3, Op: specs.OpEqualTo}, {Index: 0, Value: 5, Op: specs.OpEqualTo}},
	}}})
	require.NoError(t, err)
}
