package soracomtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// A test serves the emulator, points the client under test at URL(), and then checks
// what was stored (secrets included) and what was asked.
func Example() {
	srv, err := soracomtest.StartServer()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.AddAuthKey("keyId-example", "secret-example")
	srv.Inject("POST /v1/credentials/*", 1, soracomtest.TooManyRequests(1, false))

	// What the client under test would send.
	send := func(path, body string, header http.Header) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL()+"/v1"+path, strings.NewReader(body))
		req.Header = header.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		return resp
	}
	resp := send("/auth", `{"authKeyId":"keyId-example","authKey":"secret-example"}`, http.Header{})
	var auth struct{ APIKey, Token string }
	_ = json.NewDecoder(resp.Body).Decode(&auth)
	resp.Body.Close()
	session := http.Header{"X-Soracom-Api-Key": {auth.APIKey}, "X-Soracom-Token": {auth.Token}}
	set := `{"type":"aws-credentials","credentials":{"accessKeyId":"AKIAEXAMPLE","secretAccessKey":"wJalr"}}`
	for range 2 {
		resp := send("/credentials/demo", set, session)
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}

	stored, _ := srv.CredentialSet("demo")
	fmt.Println(stored.Credentials["secretAccessKey"])
	fmt.Println(srv.CountRequests("POST", "/v1/credentials/"))
	// Output:
	// 429
	// 201
	// wJalr
	// 2
}
