package footprint_test

import (
	"fmt"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/footprint"
)

func ExampleEstimateCall() {
	e := footprint.EstimateCall("openai", "gpt-4o-mini-2024-07-18", 400, 6*time.Second)
	fmt.Printf("%s %s: %.3f Wh, %.4f gCO2e, %.3f mL, model known %v, %d GPU\n",
		e.Method, e.MatchedModel, e.EnergyKWh*1000, e.CO2eG, e.WaterL*1000, e.ModelKnown, e.GPUs)

	u := footprint.EstimateCall("ollama", "qwen2.5:7b", 400, 0)
	fmt.Println(u.Match, u.SizeClass, u.ModelKnown, u.Zone)
	// Output:
	// ecologits gpt-4o-mini-2024-07-18: 0.029 Wh, 0.0111 gCO2e, 0.126 mL, model known true, 1 GPU
	// size-class named-7b false WOR
}
