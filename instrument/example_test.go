package instrument_test

import (
	"fmt"
	"go/token"

	"github.com/tracegen-dev/tracegen/instrument"
)

func ExampleParseDirective() {
	d, err := instrument.ParseDirective(`//trace:llm name="chat completion" kind=client attr.retries=3 tags=prod,eu`,
		token.Position{Filename: "agent.go", Line: 12, Column: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Verb, d.Name, d.Kind, d.Attrs[0].Key, d.Attrs[0].Value, d.Tags)

	_, err = instrument.ParseDirective(`//trace:llm kind=sideways`, token.Position{Filename: "agent.go", Line: 20, Column: 1})
	fmt.Println(err)
	// Output:
	// llm chat completion client retries 3 [prod eu]
	// agent.go:20:18: bad kind "sideways" (want internal, server, client, producer or consumer)
}

func ExampleStripSource() {
	instrumented := []byte(`package p

//tracegen:generated
import tracegen "github.com/tracegen-dev/tracegen/runtime/trace"

//trace:span
func f() (err error) {
	span := tracegen.Begin("p.f") //tracegen:was results=" error "
	defer span.Return(&err)
	return nil
}
`)
	orig, err := instrument.StripSource(instrumented)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(orig))
	// Output:
	// package p
	//
	// //trace:span
	// func f() error {
	// 	return nil
	// }
}
