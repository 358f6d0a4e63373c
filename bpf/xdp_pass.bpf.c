// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program that passes every frame: the lab (scripts/lab.sh) attaches it to
 * the veth peers that receive frames sent with XDP_TX or redirected by
 * another XDP program. On this kernel veth hands such frames only to a peer
 * that has an XDP program of its own; without one they are counted as
 * xdp_tx and silently dropped. Not used outside labs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xlb_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
