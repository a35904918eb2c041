package export_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
)

func TestLookupEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("TG_TEST_A=file\nTG_TEST_B='file b'\nTG_TEST_C=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TG_TEST_A", "env")
	t.Cleanup(func() { export.UseEnvFile("") })
	if err := export.UseEnvFile(path); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"TG_TEST_A", "env", true}, // the environment wins
		{"TG_TEST_B", "file b", true},
		{"TG_TEST_C", "", true},
		{"TG_TEST_D", "", false},
	}
	for _, tt := range tests {
		if v, ok := export.LookupEnv(tt.key); v != tt.want || ok != tt.ok {
			t.Errorf("LookupEnv(%s) = %q, %t; want %q, %t", tt.key, v, ok, tt.want, tt.ok)
		}
	}
	if _, set := os.LookupEnv("TG_TEST_B"); set {
		t.Error("the file's value reached the process environment")
	}
	if p, err := export.EnvFile(); p != path || err != nil {
		t.Errorf("EnvFile() = %q, %v", p, err)
	}
	if err := export.UseEnvFile(path + ".absent"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, ok := export.LookupEnv("TG_TEST_B"); ok {
		t.Error("values of the previous file still visible")
	}
}
