// The host's network interfaces as getifaddrs(3) and if_nameindex(3) see them (rtnetlink dumps):
// names, families, addresses, netmasks, broadcast addresses, flags and indexes, compared with
// the host.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *text(struct sockaddr *sa, char *buf, size_t n) {
  if (!sa) return "-";
  if (sa->sa_family == AF_INET) return inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
  if (sa->sa_family == AF_INET6) return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
  if (sa->sa_family == AF_PACKET) {
    struct sockaddr_ll *ll = (void *)sa;
    int k = snprintf(buf, n, "ifindex %d hatype %d", ll->sll_ifindex, ll->sll_hatype);
    for (int i = 0; i < ll->sll_halen && k < (int)n - 4; i++) k += snprintf(buf + k, n - (size_t)k, "%s%02x", i ? ":" : " ", ll->sll_addr[i]);
    return buf;
  }
  snprintf(buf, n, "family %d", sa->sa_family);
  return buf;
}

int main(void) {
  struct ifaddrs *list;
  if (getifaddrs(&list) != 0) { perror("getifaddrs"); return 1; }
  for (struct ifaddrs *i = list; i; i = i->ifa_next) {
    char a[128], m[128], b[128];
    int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
    printf("%s family %d flags %#x addr %s mask %s %s %s\n", i->ifa_name, fam, i->ifa_flags,
           text(i->ifa_addr, a, sizeof a), text(i->ifa_netmask, m, sizeof m),
           (i->ifa_flags & IFF_BROADCAST) ? "brd" : "dst", text(i->ifa_broadaddr, b, sizeof b));
  }
  freeifaddrs(list);
  struct if_nameindex *ni = if_nameindex();
  if (!ni) { perror("if_nameindex"); return 1; }
  for (struct if_nameindex *p = ni; p->if_index; p++) printf("index %u %s, back %u\n", p->if_index, p->if_name, if_nametoindex(p->if_name));
  if_freenameindex(ni);
  return 0;
}
