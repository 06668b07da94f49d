package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"
)

// TestCancelInTheFirstWorkflowTask: an HR system sends hired then hire_cancelled at once, so the
// cancel update reaches the workflow with its start, before run has begun.
func (s *onboardingSuite) TestCancelInTheFirstWorkflowTask() {
	s.env.OnActivity(acts.ResolvePlan, mock.Anything, mock.Anything).After(time.Minute).Return(testPlan, nil).Maybe()
	s.cancelByUpdate(0)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.assertCancelled()
}
