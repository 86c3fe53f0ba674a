package jose

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestObjectRule(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth)
	tooDeep := strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth)
	var many strings.Builder
	many.WriteString("{")
	for i := range 40 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"m` + strconv.Itoa(i) + `":1`)
	}
	manyOK := many.String() + "}"
	manyDup := many.String() + `,"m0":2}`
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"empty object", `{}`, true},
		{"white space", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", true},
		{"all value kinds", `{"s":"x\"y\\u00e9\u00e9","n":-1.5e+3,"z":0,"t":true,"f":false,"u":null,"a":[{},[]],"o":{"p":{}}}`, true},
		{"case differs", `{"sub":"a","SUB":"b","Sub":"c"}`, true},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":2}}`, true},
		{"depth at the bound", deep, true},
		{"many members", manyOK, true},
		{"repeated top-level", `{"sub":"alice","sub":"mallory"}`, false},
		{"repeated after unescaping", `{"sub":"alice","\u0073ub":"mallory"}`, false},
		{"repeated escaped slash", `{"a/b":1,"a\/b":2}`, false},
		{"repeated nested", `{"a":{"x":1,"x":2}}`, false},
		{"repeated in array element", `{"a":[{"x":1,"x":2}]}`, false},
		{"repeated invalid utf8 both U+FFFD", "{\"\xff\":1,\"\xfe\":2}", false},
		{"repeated lone surrogates", `{"\ud800":1,"\udc00":2}`, false},
		{"repeated among many", manyDup, false},
		{"too deep", `{"a":` + tooDeep + `}`, false},
		{"array at top", `[1]`, false},
		{"string at top", `"a"`, false},
		{"trailing data", `{} {}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"single quotes", `{'a':1}`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare dot", `{"a":1.}`, false},
		{"plus sign", `{"a":+1}`, false},
		{"control char", "{\"a\":\"\x01\"}", false},
		{"bad escape", `{"a":"\x"}`, false},
		{"short unicode escape", `{"a":"\u12"}`, false},
		{"unterminated", `{"a":"b`, false},
		{"literal typo", `{"a":nul}`, false},
		{"form feed space", "\f{}", false},
		{"empty", ``, false},
	} {
		err := Object([]byte(tc.doc), nil)
		if tc.ok != (err == nil) {
			t.Errorf("Object(%s) error = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("Object(%s) error = %v, want ErrMalformed", tc.name, err)
		}
		// Where no name repeats, the grammar agrees with encoding/json.
		if !strings.Contains(tc.name, "repeated") && !strings.Contains(tc.name, "deep") && json.Valid([]byte(tc.doc)) && strings.HasPrefix(strings.TrimSpace(tc.doc), "{") != (err == nil) {
			t.Errorf("Object(%s) = %v, json.Valid true", tc.name, err)
		}
	}
}

func TestObjectMembers(t *testing.T) {
	t.Parallel()
	var got []string
	err := Object([]byte(`{"a":1,"\u0062":"x","c":{"d":[1,2]}}`), func(name, val []byte) error {
		got = append(got, string(name)+"="+string(val))
		return nil
	})
	want := []string{`a=1`, `b="x"`, `c={"d":[1,2]}`}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Object members = %q, %v; want %q", got, err, want)
	}
	stop := errors.New("stop")
	if err := Object([]byte(`{"a":1,"b":2}`), func(name, _ []byte) error { return stop }); err != stop {
		t.Errorf("Object with failing fn = %v, want the fn's error", err)
	}
}

func TestValueReaders(t *testing.T) {
	t.Parallel()
	if s, ok := String([]byte(`"a\u00e9\ud83d\ude00\n"`)); !ok || s != "aé😀\n" {
		t.Errorf("String = %q, %v", s, ok)
	}
	if _, ok := String([]byte(`12`)); ok {
		t.Error("String(12) ok, want not a string")
	}
	if l, ok := Strings([]byte(`[ "a" , "b\u0063" ]`)); !ok || strings.Join(l, ",") != "a,bc" {
		t.Errorf("Strings = %q, %v", l, ok)
	}
	if l, ok := Strings([]byte(`[]`)); !ok || len(l) != 0 {
		t.Errorf("Strings([]) = %q, %v", l, ok)
	}
	if l, ok := Elements([]byte(`[ {"a":[1,2]} , "x",3 ]`)); !ok || len(l) != 3 || string(l[0]) != `{"a":[1,2]}` || string(l[2]) != "3" {
		t.Errorf("Elements = %q, %v", l, ok)
	}
	if l, ok := Elements([]byte(`[]`)); !ok || len(l) != 0 {
		t.Errorf("Elements([]) = %q, %v", l, ok)
	}
	if _, ok := Elements([]byte(`{}`)); ok {
		t.Error("Elements({}) ok, want not an array")
	}
	if _, ok := Strings([]byte(`["a",1]`)); ok {
		t.Error(`Strings(["a",1]) ok, want not strings`)
	}
}

func TestUnmarshalCaseSensitive(t *testing.T) {
	t.Parallel()
	var v struct {
		Sub string `json:"sub"`
	}
	if err := Unmarshal([]byte(`{"SUB":"mallory"}`), &v); err != nil || v.Sub != "" {
		t.Errorf("Unmarshal(SUB) = %q, %v; want the member ignored", v.Sub, err)
	}
	if err := Unmarshal([]byte(`{"sub":"alice","sub":"mallory"}`), &v); !errors.Is(err, ErrMalformed) {
		t.Errorf("Unmarshal(duplicate) = %v, want ErrMalformed", err)
	}
	if err := Unmarshal([]byte(`{"sub":7}`), &v); !errors.Is(err, ErrMalformed) || strings.Contains(err.Error(), "7") {
		t.Errorf("Unmarshal(type) = %v, want ErrMalformed without the value", err)
	}
}
