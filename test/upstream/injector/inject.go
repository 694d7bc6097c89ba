// Package injector runs the Vault Agent Injector's own mutation (github.com/hashicorp/vault-k8s,
// agent-inject) on the pods of every Deployment the program renders, configured the way the vault
// chart configures the injector from the rendered Helm values. The tests assert on what the
// injector produced (containers, resources, the agent config it encodes), not on our annotations.
package injector

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-secure-stdlib/parseutil"
	agentinject "github.com/hashicorp/vault-k8s/agent-inject"
	"github.com/hashicorp/vault-k8s/agent-inject/agent"
	"github.com/hashicorp/vault-k8s/subcommand/injector"
	"github.com/kelseyhightower/envconfig"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// ChartValues are the values Helm renders the chart with: the chart's own values.yaml (the pinned
// version's, from the reference data) coalesced with the release's values as the program sent them.
func ChartValues(t testing.TB, rel fixtures.Release) map[string]any {
	t.Helper()
	path := filepath.Join(fixtures.ReferenceDir(t), "vault-helm", rel.Version, "values.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chart %s %s: no values.yaml in the reference data: %v", rel.Chart, rel.Version, err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(b, &defaults); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return coalesce(rel.Values, defaults)
}

// coalesce merges user values over chart defaults as Helm does (chartutil.CoalesceValues): maps
// merge key by key, anything else from the user wins, and a user null deletes the default.
func coalesce(user, defaults map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		um, uok := v.(map[string]any)
		dm, dok := out[k].(map[string]any)
		if uok && dok {
			out[k] = coalesce(um, dm)
		} else {
			out[k] = v
		}
	}
	return out
}

func lookup(values map[string]any, path string) any {
	var cur any = values
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// render prints a value the way a Helm template's `{{ x }}` does (missing values print nothing).
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// ChartEnv is the environment the chart (vault-helm 0.34.1, templates/injector-deployment.yaml)
// gives the injector container, computed from the coalesced values. Only the variables that
// shape a mutation; TLS, listener and probes are left out. An injector with no external address
// would point the agents at an in-cluster Vault server this program never installs: an error.
func ChartEnv(values map[string]any) (map[string]string, error) {
	v := func(path string) string { return render(lookup(values, path)) }
	orDefault := func(path, d string) string {
		if s := v(path); truthy(lookup(values, path)) {
			return s
		}
		return d
	}
	env := map[string]string{
		"AGENT_INJECT_LOG_LEVEL":                             orDefault("injector.logLevel", "info"),
		"AGENT_INJECT_VAULT_AUTH_PATH":                       v("injector.authPath"),
		"AGENT_INJECT_VAULT_IMAGE":                           v("injector.agentImage.repository") + ":" + v("injector.agentImage.tag"),
		"AGENT_INJECT_LOG_FORMAT":                            orDefault("injector.logFormat", "standard"),
		"AGENT_INJECT_REVOKE_ON_SHUTDOWN":                    orDefault("injector.revokeOnShutdown", "false"),
		"AGENT_INJECT_CPU_REQUEST":                           v("injector.agentDefaults.cpuRequest"),
		"AGENT_INJECT_CPU_LIMIT":                             v("injector.agentDefaults.cpuLimit"),
		"AGENT_INJECT_MEM_REQUEST":                           v("injector.agentDefaults.memRequest"),
		"AGENT_INJECT_MEM_LIMIT":                             v("injector.agentDefaults.memLimit"),
		"AGENT_INJECT_DEFAULT_TEMPLATE":                      v("injector.agentDefaults.template"),
		"AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE": v("injector.agentDefaults.templateConfig.exitOnRetryFailure"),
	}
	switch {
	case truthy(lookup(values, "global.externalVaultAddr")):
		env["AGENT_INJECT_VAULT_ADDR"] = v("global.externalVaultAddr")
	case truthy(lookup(values, "injector.externalVaultAddr")):
		env["AGENT_INJECT_VAULT_ADDR"] = v("injector.externalVaultAddr")
	default:
		return nil, fmt.Errorf("neither global.externalVaultAddr nor injector.externalVaultAddr is set: the chart points the agents at an in-cluster Vault service")
	}
	if truthy(lookup(values, "global.openshift")) {
		env["AGENT_INJECT_SET_SECURITY_CONTEXT"] = "false"
	}
	if v("injector.leaderElector.enabled") == "true" {
		if n, _ := lookup(values, "injector.replicas").(float64); n > 1 {
			env["AGENT_INJECT_USE_LEADER_ELECTOR"] = "true"
		}
	}
	if truthy(lookup(values, "injector.agentDefaults.ephemeralRequest")) {
		env["AGENT_INJECT_EPHEMERAL_REQUEST"] = v("injector.agentDefaults.ephemeralRequest")
	}
	if truthy(lookup(values, "injector.agentDefaults.ephemeralLimit")) {
		env["AGENT_INJECT_EPHEMERAL_LIMIT"] = v("injector.agentDefaults.ephemeralLimit")
	}
	if truthy(lookup(values, "injector.agentDefaults.templateConfig.staticSecretRenderInterval")) {
		env["AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL"] = v("injector.agentDefaults.templateConfig.staticSecretRenderInterval")
	}
	// vault.extraEnvironmentVars: the key upper-cased with '.' as '_', the value quoted as is.
	if extra, ok := lookup(values, "injector.extraEnvironmentVars").(map[string]any); ok {
		for k, x := range extra {
			env[strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = render(x)
		}
	}
	return env, nil
}

// NewHandler builds the injector's webhook handler from that environment the way the injector
// command does: its own Specification read by envconfig (subcommand/injector/flags.go parseEnvs),
// over its flag defaults, into agentinject.Handler (subcommand/injector/command.go Run).
func NewHandler(t testing.TB, env map[string]string) *agentinject.Handler {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AGENT_INJECT_") {
			t.Setenv(k, "")
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var spec injector.Specification
	if err := envconfig.Process("agent_inject", &spec); err != nil {
		t.Fatalf("the injector refuses its environment: %v", err)
	}
	pick := func(v, d string) string {
		if v != "" {
			return v
		}
		return d
	}
	pickBool := func(name, v string, d bool) bool {
		if v == "" {
			return d
		}
		b, err := parseutil.ParseBool(v)
		if err != nil {
			t.Fatalf("the injector refuses %s=%q: %v", name, v, err)
		}
		return b
	}
	defaultTemplate := pick(spec.DefaultTemplate, agent.DefaultTemplateType)
	if defaultTemplate != "map" && defaultTemplate != "json" {
		t.Fatalf("the injector refuses default template %q", defaultTemplate)
	}
	if spec.VaultAddr == "" {
		t.Fatal("the injector refuses to start: No Vault service configured")
	}
	return &agentinject.Handler{
		VaultAddress:               spec.VaultAddr,
		VaultCACertBytes:           spec.VaultCACertBytes,
		VaultAuthType:              pick(spec.VaultAuthType, agent.DefaultVaultAuthType),
		VaultAuthPath:              pick(spec.VaultAuthPath, agent.DefaultVaultAuthPath),
		VaultNamespace:             spec.VaultNamespace,
		ProxyAddress:               spec.ProxyAddr,
		ImageVault:                 pick(spec.VaultImage, agent.DefaultVaultImage),
		RequireAnnotation:          true,
		Log:                        hclog.NewNullLogger(),
		RevokeOnShutdown:           pickBool("AGENT_INJECT_REVOKE_ON_SHUTDOWN", spec.RevokeOnShutdown, false),
		UserID:                     pick(spec.RunAsUser, strconv.Itoa(agent.DefaultAgentRunAsUser)),
		GroupID:                    pick(spec.RunAsGroup, strconv.Itoa(agent.DefaultAgentRunAsGroup)),
		SameID:                     pickBool("AGENT_INJECT_RUN_AS_SAME_USER", spec.RunAsSameUser, agent.DefaultAgentRunAsSameUser),
		SetSecurityContext:         pickBool("AGENT_INJECT_SET_SECURITY_CONTEXT", spec.SetSecurityContext, agent.DefaultAgentSetSecurityContext),
		DefaultTemplate:            defaultTemplate,
		ResourceRequestCPU:         pick(spec.ResourceRequestCPU, agent.DefaultResourceRequestCPU),
		ResourceRequestMem:         pick(spec.ResourceRequestMem, agent.DefaultResourceRequestMem),
		ResourceRequestEphemeral:   spec.ResourceRequestEphemeral,
		ResourceLimitCPU:           pick(spec.ResourceLimitCPU, agent.DefaultResourceLimitCPU),
		ResourceLimitMem:           pick(spec.ResourceLimitMem, agent.DefaultResourceLimitMem),
		ResourceLimitEphemeral:     spec.ResourceLimitEphemeral,
		ExitOnRetryFailure:         pickBool("AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE", spec.TemplateConfigExitOnRetryFailure, agent.DefaultTemplateConfigExitOnRetryFailure),
		StaticSecretRenderInterval: spec.TemplateConfigStaticSecretRenderInterval,
		AuthMinBackoff:             spec.AuthMinBackoff,
		AuthMaxBackoff:             spec.AuthMaxBackoff,
		DisableIdleConnections:     spec.DisableIdleConnections,
		DisableKeepAlives:          spec.DisableKeepAlives,
	}
}

// tokenMount is where the ServiceAccount admission plugin mounts the API token
// (k8s.io/kubernetes plugin/pkg/admission/serviceaccount); it runs before any webhook.
const tokenMount = "/var/run/secrets/kubernetes.io/serviceaccount"

// Pod is the Pod the API server hands the webhook for one replica of a Deployment: the template,
// in the Deployment's namespace, after the ServiceAccount admission plugin has added the
// projected API token volume (unless automount is off on the pod or its service account).
func Pod(t testing.TB, d fixtures.Deployment, sas []fixtures.ServiceAccount) corev1.Pod {
	t.Helper()
	var tpl corev1.PodTemplateSpec
	if err := json.Unmarshal(d.Template, &tpl); err != nil {
		t.Fatalf("%s: the pod template does not decode as a Kubernetes PodTemplateSpec: %v", d.Name, err)
	}
	pod := corev1.Pod{ObjectMeta: tpl.ObjectMeta, Spec: tpl.Spec}
	pod.Name = d.Name + "-7d9f8b6c5-x2x4q"
	pod.GenerateName = d.Name + "-7d9f8b6c5-"
	pod.Namespace = d.Namespace
	// The ReplicaSet controller adds its hash label to every pod it creates.
	pod.Labels = labels.Merge(pod.Labels, labels.Set{"pod-template-hash": "7d9f8b6c5"})
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	automount := true
	for _, sa := range sas {
		if sa.Name == pod.Spec.ServiceAccountName && sa.Namespace == d.Namespace && sa.AutomountServiceAccountToken != nil {
			automount = *sa.AutomountServiceAccountToken
		}
	}
	if pod.Spec.AutomountServiceAccountToken != nil {
		automount = *pod.Spec.AutomountServiceAccountToken
	}
	if automount {
		expiry := int64(3607)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name: "kube-api-access-x2x4q",
			VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiry}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			}}},
		})
		for i := range pod.Spec.Containers {
			pod.Spec.Containers[i].VolumeMounts = append(pod.Spec.Containers[i].VolumeMounts,
				corev1.VolumeMount{Name: "kube-api-access-x2x4q", MountPath: tokenMount, ReadOnly: true})
		}
	}
	return pod
}

// Webhook is the chart's MutatingWebhookConfiguration for the injector, as far as it decides
// which pods the API server sends it (templates/injector-mutating-webhook.yaml of vault-helm
// 0.34.1): rules CREATE pods, and the namespace and object selectors rendered from the values.
type Webhook struct {
	NamespaceSelector, ObjectSelector       labels.Selector
	NamespaceSelectorRaw, ObjectSelectorRaw *metav1.LabelSelector
}

// ChartWebhook renders the webhook's selectors from the coalesced values as the chart does:
// namespaceSelector is `injector.webhook.namespaceSelector | default injector.namespaceSelector`
// (omitted when both are empty); objectSelector is `or injector.webhook.objectSelector
// injector.objectSelector`, a string being run through `tpl` (the chart's default is a string
// naming `{{ template "vault.name" . }}-agent-injector`). Each is parsed into apimachinery's
// LabelSelector and turned into a selector with metav1.LabelSelectorAsSelector, as the API server
// does (k8s.io/apiserver pkg/admission/plugin/webhook/predicates).
func ChartWebhook(values map[string]any) (Webhook, error) {
	var w Webhook
	nsRaw := lookup(values, "injector.webhook.namespaceSelector")
	if !truthy(nsRaw) {
		nsRaw = lookup(values, "injector.namespaceSelector")
	}
	objRaw := lookup(values, "injector.webhook.objectSelector")
	if !truthy(objRaw) {
		objRaw = lookup(values, "injector.objectSelector")
	}
	if s, ok := objRaw.(string); ok {
		// vault.name: `default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-"`.
		name := "vault"
		if n := render(lookup(values, "nameOverride")); n != "" {
			name = n
		}
		if len(name) > 63 {
			name = name[:63]
		}
		name = strings.TrimSuffix(name, "-")
		s = strings.ReplaceAll(s, `{{ template "vault.name" . }}`, name)
		if strings.Contains(s, "{{") {
			return w, fmt.Errorf("objectSelector template %q uses more than the oracle renders", s)
		}
		var parsed any
		if err := yaml.Unmarshal([]byte(s), &parsed); err != nil {
			return w, fmt.Errorf("objectSelector: %v", err)
		}
		objRaw = parsed
	}
	var err error
	if w.NamespaceSelectorRaw, w.NamespaceSelector, err = selector(nsRaw); err != nil {
		return w, fmt.Errorf("namespaceSelector: %v", err)
	}
	if w.ObjectSelectorRaw, w.ObjectSelector, err = selector(objRaw); err != nil {
		return w, fmt.Errorf("objectSelector: %v", err)
	}
	return w, nil
}

// selector decodes one rendered selector; an omitted one matches everything (the API default).
func selector(raw any) (*metav1.LabelSelector, labels.Selector, error) {
	if !truthy(raw) {
		return nil, labels.Everything(), nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, nil, err
	}
	var ls metav1.LabelSelector
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ls); err != nil {
		return nil, nil, fmt.Errorf("%s is not a LabelSelector: %v", b, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil, nil, err
	}
	return &ls, sel, nil
}

// NamespaceLabels are the labels a namespace carries on the cluster the program builds: what the
// program sets on it (a Namespace it creates, or a NamespacePatch by server-side apply on one it
// does not), plus `kubernetes.io/metadata.name`, which the API server sets on every namespace.
// Extra labels someone else put on a namespace the program does not create are unknown, so none.
func NamespaceLabels(k8s fixtures.Kubernetes, name string) labels.Set {
	set := labels.Set{"kubernetes.io/metadata.name": name}
	for _, ns := range k8s.Namespaces {
		if ns.Name == name {
			for k, v := range ns.Labels {
				set[k] = v
			}
		}
	}
	return set
}

// Sees reports whether the API server sends the webhook a CREATE of pod (its rules match every
// pod CREATE): the namespace's labels match namespaceSelector and the pod's objectSelector.
func (w Webhook) Sees(nsLabels labels.Set, pod corev1.Pod) (bool, string) {
	if !w.NamespaceSelector.Matches(nsLabels) {
		return false, fmt.Sprintf("namespace %s (labels %v) does not match the webhook's namespaceSelector %s", pod.Namespace, nsLabels, w.NamespaceSelector)
	}
	if !w.ObjectSelector.Matches(labels.Set(pod.Labels)) {
		return false, fmt.Sprintf("pod labels %v do not match the webhook's objectSelector %s", pod.Labels, w.ObjectSelector)
	}
	return true, ""
}

// Injected is what the injector made of one Deployment's pod.
type Injected struct {
	Deployment fixtures.Deployment
	// Seen: the webhook was called for the pod. When false, Pod is the pod as created, unmutated,
	// and NotSeen says why.
	Seen    bool
	NotSeen string
	// Pod after the injector's JSON patch.
	Pod corev1.Pod
	// Init is the agent init container (nil if none); Sidecar the agent sidecar (nil if none).
	Init, Sidecar *corev1.Container
	// The agent configs the injector encoded into each container's VAULT_CONFIG.
	InitConfig, SidecarConfig *agent.Config
}

// Mutate sends the pod through the injector's admission handler and applies its patch.
func Mutate(t testing.TB, h *agentinject.Handler, pod corev1.Pod) (corev1.Pod, agentinject.MutateResponse) {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	resp := h.Mutate(&admissionv1.AdmissionRequest{
		UID:       types.UID("4b54a2c3-uid"),
		Namespace: pod.Namespace,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	})
	if !resp.Resp.Allowed {
		msg := "(no message)"
		if resp.Resp.Result != nil {
			msg = resp.Resp.Result.Message
		}
		t.Fatalf("the injector refused pod %s/%s: %s", pod.Namespace, pod.Name, msg)
	}
	if len(resp.Resp.Patch) == 0 {
		return pod, resp
	}
	patch, err := jsonpatch.DecodePatch(resp.Resp.Patch)
	if err != nil {
		t.Fatalf("the injector's patch does not decode: %v", err)
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("the injector's patch does not apply to the pod: %v", err)
	}
	var out corev1.Pod
	if err := json.Unmarshal(patched, &out); err != nil {
		t.Fatal(err)
	}
	return out, resp
}

// AgentConfig decodes a container's VAULT_CONFIG (base64 JSON) into the injector's own Config type.
func AgentConfig(t testing.TB, c *corev1.Container) *agent.Config {
	t.Helper()
	for _, e := range c.Env {
		if e.Name != "VAULT_CONFIG" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(e.Value)
		if err != nil {
			t.Fatalf("%s: VAULT_CONFIG is not base64: %v", c.Name, err)
		}
		var cfg agent.Config
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatalf("%s: VAULT_CONFIG is not the agent's JSON config: %v", c.Name, err)
		}
		return &cfg
	}
	t.Fatalf("%s: no VAULT_CONFIG", c.Name)
	return nil
}

// Stack is one stack's injector, as the chart configures it, and its handler.
type Stack struct {
	Name    string
	Release fixtures.Release
	Values  map[string]any
	Env     map[string]string
	Handler *agentinject.Handler
	Webhook Webhook
}

// LoadStack configures the injector for a stack from its release fixture.
func LoadStack(t testing.TB, stack string) Stack {
	t.Helper()
	rel := fixtures.Load[fixtures.Release](t, stack, "release.json")
	values := ChartValues(t, rel)
	env, err := ChartEnv(values)
	if err != nil {
		t.Fatalf("%s: %v", stack, err)
	}
	webhook, err := ChartWebhook(values)
	if err != nil {
		t.Fatalf("%s: the chart's webhook: %v", stack, err)
	}
	return Stack{Name: stack, Release: rel, Values: values, Env: env, Handler: NewHandler(t, env), Webhook: webhook}
}

// InjectAll runs the injector on one pod of every Deployment of a stack that the webhook sees
// (its selectors against the namespace's and pod's labels), sorted by name. A pod the webhook
// does not see is created as it is, with no agent.
func (s Stack) InjectAll(t testing.TB) []Injected {
	t.Helper()
	k8s := fixtures.Load[fixtures.Kubernetes](t, s.Name, "kubernetes.json")
	var out []Injected
	for _, d := range fixtures.Load[[]fixtures.Deployment](t, s.Name, "deployments.json") {
		created := Pod(t, d, k8s.ServiceAccounts)
		seen, why := s.Webhook.Sees(NamespaceLabels(k8s, d.Namespace), created)
		if !seen {
			out = append(out, Injected{Deployment: d, Pod: created, NotSeen: why})
			continue
		}
		pod, _ := Mutate(t, s.Handler, created)
		in := Injected{Deployment: d, Pod: pod, Seen: true}
		for i := range pod.Spec.InitContainers {
			if pod.Spec.InitContainers[i].Name == "vault-agent-init" {
				in.Init = &pod.Spec.InitContainers[i]
				in.InitConfig = AgentConfig(t, in.Init)
			}
		}
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == "vault-agent" {
				in.Sidecar = &pod.Spec.Containers[i]
				in.SidecarConfig = AgentConfig(t, in.Sidecar)
			}
		}
		out = append(out, in)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deployment.Name < out[j].Deployment.Name })
	return out
}
