package credtypes_test

import (
	"fmt"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
)

func ExampleParse() {
	raw := map[string]any{
		"roleArn":    "arn:aws:iam::123456789012:role/SoracomAccess",
		"externalId": "an-external-id",
	}
	// Mask first (secret.Mask on each), so that nothing below can print a secret.
	fmt.Println(credtypes.SecretValues("aws-iam-role-credentials", raw))
	c, err := credtypes.Parse("aws-iam-role-credentials", raw, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c) // prints the summary only
	for _, it := range c.Summary() {
		fmt.Printf("%s: %s\n", it.Name, it.Value)
	}

	_, err = credtypes.Parse("aws-credentials", map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccesKey": "…"}, time.Now())
	fmt.Println(err)
	// Output:
	// [an-external-id]
	// credentials{type: aws-iam-role-credentials, roleArn: arn:aws:iam::123456789012:role/SoracomAccess, externalId: ***}
	// roleArn: arn:aws:iam::123456789012:role/SoracomAccess
	// externalId: ***
	// unknown field `secretAccesKey` for type aws-credentials; did you mean `secretAccessKey`?
}
