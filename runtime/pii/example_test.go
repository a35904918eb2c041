package pii_test

import (
	"fmt"

	"github.com/tracegen-dev/tracegen/runtime/pii"
)

func ExampleRedactor_Redact() {
	text := "Contact jane@example.com or +33 1 23 45 67 89, card 4111 1111 1111 1111."
	fmt.Println(pii.New(pii.ModeMask, nil, nil).Redact(text))
	fmt.Println(pii.New(pii.ModeRedact, []pii.Type{pii.Email}, nil).Redact(text))
	// Output:
	// Contact j***@example.com or +** * ** ** 67 89, card **** **** **** 1111.
	// Contact [REDACTED:email] or +33 1 23 45 67 89, card 4111 1111 1111 1111.
}
