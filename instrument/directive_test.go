package instrument

import (
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
)

func TestParseDirective(t *testing.T) {
	tests := []struct {
		text string
		want Directive
	}{
		{`//trace:span`, Directive{Verb: VerbSpan}},
		{`//trace:llm`, Directive{Verb: VerbLLM}},
		{`//trace:ignore`, Directive{Verb: VerbIgnore}},
		{`//trace:tool name=search kind=client`, Directive{Verb: VerbTool, Name: "search", Kind: "client"}},
		{`//trace:agent name="plan and act" agent=planner model=gpt-4o`,
			Directive{Verb: VerbAgent, Name: "plan and act", Agent: "planner", Model: "gpt-4o"}},
		{`//trace:span attr.db=main attr.table="user data" inherit.tenant=acme`,
			Directive{Verb: VerbSpan, Attrs: []KV{{"db", "main", false}, {"table", "user data", true}}, Inherited: []KV{{"tenant", "acme", false}}}},
		{`//trace:chain tags=a,b,c input output`, Directive{Verb: VerbChain, Tags: []string{"a", "b", "c"}, Input: true, Output: true}},
		{`//trace:task name="say \"hi\"\tnow"`, Directive{Verb: VerbTask, Name: "say \"hi\"\tnow"}},
		{"//trace:task name=`raw \\n`", Directive{Verb: VerbTask, Name: `raw \n`}},
		{"//trace:span\tname=x  ", Directive{Verb: VerbSpan, Name: "x"}},
		{`//trace:span name=a=b`, Directive{Verb: VerbSpan, Name: "a=b"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d, err := ParseDirective(tt.text, token.Position{Filename: "f.go", Line: 3, Column: 1})
			if err != nil {
				t.Fatalf("ParseDirective: %v", err)
			}
			d.Pos = token.Position{}
			if !reflect.DeepEqual(*d, tt.want) {
				t.Errorf("got %+v\nwant %+v", *d, tt.want)
			}
		})
	}
}

func TestParseDirectiveErrors(t *testing.T) {
	tests := []struct {
		text string
		col  int // column of the offending token (the comment starts at column 5)
		msg  string
	}{
		{`//trace:`, 13, "missing verb"},
		{`//trace: span`, 13, "missing verb"},
		{`//trace:spans`, 13, `unknown directive verb "spans"`},
		{`//trace:span bogus=1`, 18, `unknown key "bogus"`},
		{`//trace:span name=a name=b`, 25, `duplicate key "name"`},
		{`//trace:span kind=sideways`, 23, `bad kind "sideways"`},
		{`//trace:span name="open`, 23, "unterminated quoted value"},
		{`//trace:span name=`, 23, `empty value for key "name"`},
		{`//trace:span name`, 18, `key "name" needs a value`},
		{`//trace:span input=yes`, 18, `key "input" takes no value`},
		{`//trace:span attr.=x`, 18, "missing attribute name after attr."},
		{`//trace:span inherit.=x`, 18, "missing attribute name after inherit."},
		{`//trace:span tags=a,,b`, 23, "empty tag"},
		{`//trace:span name="a"b`, 26, "missing space after quoted value"},
		{`//trace:span name=a"b`, 24, "unexpected quote inside value"},
		{`//trace:span =x`, 18, "missing key"},
		{`//trace:ignore name=x`, 20, "//trace:ignore takes no keys"},
		{`//trace:span na$me=x`, 20, "invalid character"},
		{`//trace:span name="\q"`, 23, "bad quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseDirective(tt.text, token.Position{Filename: "f.go", Offset: 4, Line: 7, Column: 5})
			if err == nil {
				t.Fatal("no error")
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T, want *Error", err)
			}
			if e.Pos.Line != 7 || e.Pos.Column != tt.col {
				t.Errorf("position %d:%d, want 7:%d (%v)", e.Pos.Line, e.Pos.Column, tt.col, e)
			}
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Msg, tt.msg)
			}
			if !strings.HasPrefix(e.Error(), "f.go:7:") {
				t.Errorf("Error() = %q, want file:line:col prefix", e.Error())
			}
		})
	}
}

func TestDirectiveOptions(t *testing.T) {
	d, err := ParseDirective(`//trace:llm kind=client attr.k=v inherit.i="j k" tags=a,b agent=x model=m`, token.Position{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(d.options("tg"), ", ")
	want := `tg.TypeLLM, tg.KindClient, tg.WithAttr("k", "v"), tg.WithInherited("i", "j k"), tg.WithTags("a", "b"), ` +
		`tg.WithAttr("gen_ai.agent.name", "x"), tg.WithAttr("gen_ai.request.model", "m")`
	if got != want {
		t.Errorf("options:\n got %s\nwant %s", got, want)
	}
}

func TestAttrLiterals(t *testing.T) {
	tests := []struct{ in, want string }{
		{`attr.n=3`, `3`}, {`attr.n=-12`, `-12`}, {`attr.n="3"`, `"3"`}, {`attr.n=007`, `"007"`},
		{`attr.n=+3`, `"+3"`}, {`attr.f=1.5`, `1.5`}, {`attr.f=2e3`, `2e3`}, {`attr.f=1.`, `"1."`},
		{`attr.f=inf`, `"inf"`}, {`attr.f=NaN`, `"NaN"`}, {`attr.b=true`, `true`}, {`attr.b="false"`, `"false"`},
		{`attr.n=99999999999999999999`, `"99999999999999999999"`}, {`attr.x=0x10`, `"0x10"`}, {`attr.s=abc`, `"abc"`},
	}
	for _, tt := range tests {
		d, err := ParseDirective("//trace:span "+tt.in, token.Position{})
		if err != nil {
			t.Fatal(err)
		}
		got := d.options("tg")[0]
		want := `tg.WithAttr("` + strings.TrimPrefix(strings.SplitN(tt.in, "=", 2)[0], "attr.") + `", ` + tt.want + `)`
		if got != want {
			t.Errorf("%s: got %s, want %s", tt.in, got, want)
		}
	}
}

func FuzzParseDirective(f *testing.F) {
	for _, s := range []string{`//trace:span`, `//trace:llm name="a b" kind=client`, `//trace:span attr.x="\u00e9" tags=a,b input`,
		"//trace:task name=`x`", `//trace:span name="unterminated`, `//trace:ignore`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !strings.HasPrefix(text, DirectivePrefix) {
			text = DirectivePrefix + text
		}
		pos := token.Position{Filename: "f.go", Offset: 10, Line: 2, Column: 3}
		d, err := ParseDirective(text, pos)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error of type %T", err)
			}
			if e.Pos.Line != 2 || e.Pos.Column < 3 || e.Pos.Column > 3+len(text) {
				t.Fatalf("error position %v outside the comment %q", e.Pos, text)
			}
			return
		}
		if _, ok := typeOption[d.Verb]; !ok {
			t.Fatalf("accepted unknown verb %q", d.Verb)
		}
		// Every accepted directive renders options that parse as Go.
		for _, o := range d.options("tg") {
			if _, err := parser.ParseExpr(o); err != nil {
				t.Fatalf("option %s does not parse: %v", o, err)
			}
		}
	})
}
