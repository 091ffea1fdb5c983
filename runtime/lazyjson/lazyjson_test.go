package lazyjson

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// Every test compares lazyjson with encoding/json on the same input: the
// package has no behaviour of its own to test.

// embedding, stamped and selfish are the kinds of struct lazyjson leaves
// to encoding/json.
type embedding struct {
	specs.LinuxBlockIODevice
	Weight *uint16 `json:"weight,omitempty"`
}

type stamped struct {
	At   time.Time `json:"at"`
	Name string
}

type selfish struct{ V string }

func (s *selfish) MarshalJSON() ([]byte, error) { return json.Marshal("self:" + s.V) }
func (s *selfish) UnmarshalJSON(b []byte) error {
	s.V = "got:" + string(b)
	return nil
}

type mixed struct {
	Plain    string            `json:"plain"`
	Embedded embedding         `json:"embedded"`
	List     []embedding       `json:"list,omitempty"`
	Stamped  *stamped          `json:"stamped,omitempty"`
	Self     selfish           `json:"self"`
	SelfPtr  *selfish          `json:"selfPtr,omitempty"`
	Struct   specs.Root        `json:"struct"`
	Any      any               `json:"any,omitempty"`
	Map      map[string]string `json:"map,omitempty"`
	Skipped  string            `json:"-"`
	hidden   string
	Quoted   int     `json:"quoted,string,omitempty"`
	Float    float64 `json:"float,omitempty"`
}

// holder is plain, but what it holds is not.
type holder struct {
	Self    selfish    `json:"self"`
	Stamped stamped    `json:"stamped"`
	Embed   *embedding `json:"embed,omitempty"`
}

// clash is a struct that names one key twice, for which encoding/json
// ignores both fields. Made at run time: go vet rightly refuses it in
// source.
var clash = reflect.StructOf([]reflect.StructField{
	{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"name"`},
	{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"name"`},
	{Name: "C", Type: reflect.TypeFor[string](), Tag: `json:"other"`},
})

// newClash returns a pointer to a clash with its fields set to values.
func newClash(values ...string) any {
	v := reflect.New(clash)
	for i, s := range values {
		v.Elem().Field(i).SetString(s)
	}
	return v.Interface()
}

type loop struct {
	Next *loop `json:"next,omitempty"`
}

// full is a spec with every field of every type it can reach set.
func full(t *testing.T) *specs.Spec {
	var s specs.Spec
	fill(reflect.ValueOf(&s).Elem(), 0)
	require.NotNil(t, s.Windows.Network, "fill reached the Windows section")
	return &s
}

func fill(v reflect.Value, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x<&>\u2028\"" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"b", "a"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, depth+1)
			v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"k": []any{1.5, "v"}}))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func TestMarshalWritesWhatEncodingJSONWrites(t *testing.T) {
	weight := uint16(3)
	empty := &specs.Spec{Process: &specs.Process{Args: []string{}, Env: nil}, Annotations: map[string]string{}}
	deep := &loop{}
	for range maxDepth + 5 {
		deep = &loop{Next: deep}
	}
	cycle := &loop{}
	cycle.Next = cycle
	cases := []struct {
		name string
		v    any
	}{
		{"a zero spec", &specs.Spec{}},
		{"every field set", full(t)},
		{"empty but not nil", empty},
		{"a spec by value", *empty},
		{"the process alone", full(t).Process},
		{"nil", nil},
		{"a nil pointer", (*specs.Spec)(nil)},
		{"structs left to encoding/json", &mixed{
			Plain: "p", Embedded: embedding{specs.LinuxBlockIODevice{Major: 8, Minor: 1}, &weight},
			List: []embedding{{}}, Stamped: &stamped{At: time.Unix(1, 0).UTC(), Name: "n"},
			Self: selfish{"s"}, SelfPtr: &selfish{"p"}, Any: []int{1}, Map: map[string]string{"z": "1", "a": "2"},
			Skipped: "no", hidden: "no", Quoted: 5,
		}},
		{"pointer methods need an address", &holder{Self: selfish{"reached by pointer"}, Embed: &embedding{}}},
		{"a value has no address", holder{Self: selfish{"by value"}}},
		{"deeper than the walk goes", deep},
		{"a cycle", cycle},
		{"a key named twice", newClash("a", "b", "c")},
		{"what cannot be encoded", &mixed{Float: math.NaN()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := json.Marshal(c.v)
			got, err := Marshal(c.v)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

func TestUnmarshalReadsWhatEncodingJSONReads(t *testing.T) {
	podman, err := os.ReadFile("../../bench/profiles/podman-4.3-seccomp.json")
	require.NoError(t, err)
	cases := []struct {
		name string
		data string
		into func() any // a new zero value to decode into
	}{
		{"every field set", string(mustJSON(t, full(t))), newSpec},
		{"podman's seccomp profile", `{"ociVersion":"1.0.2","linux":{"seccomp":` + string(podman) + `}}`, newSpec},
		{"keys in another case", `{"OCIVERSION":"1.0","Process":{"ARGS":["a"],"User":{"UID":5}}}`, newSpec},
		{"a key written twice", `{"process":{"args":["a"]},"process":{"cwd":"/"}}`, newSpec},
		{"a key twice in two cases", `{"hostname":"a","HOSTNAME":"b"}`, newSpec},
		{"a key with escapes", `{"\u0070rocess":{"cwd":"/x"},"hostname":"h"}`, newSpec},
		{"null everywhere", `{"process":null,"root":null,"linux":{"resources":null},"hostname":null}`, newSpec},
		{"null at the top", `null`, newSpec},
		{"unknown keys holding anything", `{"x":{"a":[1,{"b":"}]\"{"}],"c":null},"y":[[],{}],"z":-1.5e3,"hostname":"h"}`, newSpec},
		{"strings that look like JSON", `{"hostname":"a\"}{[","annotations":{"k\"":"v\\","e":""}}`, newSpec},
		{"white space", "\n\t{ \"hostname\" :\r\n \"x\" , \"root\" : { \"path\" : \"r\" } }\n", newSpec},
		{"an object where a string goes", `{"hostname":{}}`, newSpec},
		{"a string where an object goes", `{"process":"x"}`, newSpec},
		{"a type error deep down", `{"linux":{"resources":{"memory":{"limit":"1G"}}}}`, newSpec},
		{"a number too large", `{"process":{"user":{"uid":4294967296}}}`, newSpec},
		{"a syntax error", `{"process":{"args":["a"]}`, newSpec},
		{"data after the object", `{"hostname":"a"} {}`, newSpec},
		{"an empty document", ``, newSpec},
		{"an array at the top", `[1]`, newSpec},
		{"an interface field", `{"windows":{"credentialSpec":{"a":[1,"b",null]}}}`, newSpec},
		{"structs left to encoding/json", `{"plain":"p","embedded":{"major":8,"weight":3},"list":[{"minor":2}],"stamped":{"at":"2020-01-02T03:04:05Z","name":"n"},"self":{"a":1},"selfPtr":"x","struct":{"path":"/r","readonly":true},"any":[1,"x"],"map":{"a":"b"},"Skipped":"no","hidden":"no","quoted":"7"}`, func() any { return &mixed{} }},
		{"what a plain struct holds", `{"self":"x","stamped":{"at":"2020-01-02T03:04:05Z"},"embed":{"major":1}}`, func() any { return &holder{} }},
		{"a key named twice", `{"name":"x","other":"y"}`, func() any { return newClash() }},
		{"a bad time", `{"stamped":{"at":"yesterday"}}`, func() any { return &mixed{} }},
		{"a null struct leaves it", `{"struct":null,"plain":"p"}`, func() any { return &mixed{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := c.into(), c.into()
			wantErr := json.Unmarshal([]byte(c.data), want)
			err := Unmarshal([]byte(c.data), got)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, want, got)
		})
	}
}

func newSpec() any { return &specs.Spec{} }

// TestUnmarshalIntoAFilledValue: encoding/json merges into what v holds;
// lazyjson leaves such a value to it.
func TestUnmarshalIntoAFilledValue(t *testing.T) {
	data := []byte(`{"process":{"cwd":"/"},"annotations":{"b":"2"}}`)
	want := &specs.Spec{Hostname: "h", Process: &specs.Process{Args: []string{"a"}}, Annotations: map[string]string{"a": "1"}}
	got := &specs.Spec{Hostname: "h", Process: &specs.Process{Args: []string{"a"}}, Annotations: map[string]string{"a": "1"}}
	require.NoError(t, json.Unmarshal(data, want))
	require.NoError(t, Unmarshal(data, got))
	require.Equal(t, want, got)
	require.Equal(t, []string{"a"}, got.Process.Args, "merged, as encoding/json does")
}

// TestPlainSpecsTakeTheWalk: the specs cm reads and writes are walked by
// lazyjson itself, not handed back to encoding/json (which would still
// give the right answer, at the cost lazyjson exists to avoid).
func TestPlainSpecsTakeTheWalk(t *testing.T) {
	podman, err := os.ReadFile("../../bench/profiles/podman-4.3-seccomp.json")
	require.NoError(t, err)
	var seccomp specs.LinuxSeccomp
	require.NoError(t, json.Unmarshal(podman, &seccomp))
	s := full(t)
	s.Linux.Seccomp = &seccomp
	objects := walkedObjects.Load()
	data, err := Marshal(s)
	require.NoError(t, err)
	require.Greater(t, walkedObjects.Load()-objects, int64(20), "Marshal walked the spec's objects itself")

	before, objects := fallbacks.Load(), walkedObjects.Load()
	var got specs.Spec
	require.NoError(t, Unmarshal(data, &got))
	require.Equal(t, before, fallbacks.Load(), "the walk gave up on a plain spec")
	require.Greater(t, walkedObjects.Load()-objects, int64(20), "Unmarshal walked the spec's objects itself")
	require.Equal(t, s, &got)
	require.NotNil(t, tableOf(reflect.TypeFor[specs.Spec]()))
	require.Nil(t, tableOf(reflect.TypeFor[specs.LinuxWeightDevice]()), "embedded fields are encoding/json's")
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(`{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["A=b"],"user":{"uid":1}},"root":{"path":"r"}}`)
	f.Add(`{"linux":{"namespaces":[{"type":"pid"}],"resources":{"memory":{"limit":5}}},"hostname":"h","HostName":"i"}`)
	f.Add(`{"mounts":[{"destination":"/p","type":"proc","options":["ro"]}],"annotations":{"a":"b"}}`)
	f.Fuzz(func(t *testing.T, data string) {
		var want, got specs.Spec
		wantErr := json.Unmarshal([]byte(data), &want)
		err := Unmarshal([]byte(data), &got)
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error())
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}
