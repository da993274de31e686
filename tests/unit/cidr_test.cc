// Cidr (net/cidr.h) and the Unix addresses of SocketAddress
// (net/address.h).
#include "eddy/net/cidr.h"

#include "eddy/net/address.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

SocketAddress Ip(absl::string_view host) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse(host, 1);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.value_or(SocketAddress());
}

TEST(Cidr, ContainsTheAddressesOfItsNetwork) {
  absl::StatusOr<Cidr> ten = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(ten.ok()) << ten.status();
  EXPECT_TRUE(ten->Contains(Ip("10.1.2.3")));
  EXPECT_FALSE(ten->Contains(Ip("11.0.0.0")));
  EXPECT_FALSE(ten->Contains(Ip("::1")));
  EXPECT_EQ(ten->ToString(), "10.0.0.0/8");

  absl::StatusOr<Cidr> odd = Cidr::Parse("192.168.4.0/22");
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_TRUE(odd->Contains(Ip("192.168.7.255")));
  EXPECT_FALSE(odd->Contains(Ip("192.168.8.0")));
}

TEST(Cidr, ABareAddressIsANetworkOfOne) {
  absl::StatusOr<Cidr> one = Cidr::Parse("127.0.0.1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->ToString(), "127.0.0.1/32");
  EXPECT_TRUE(one->Contains(Ip("127.0.0.1")));
  EXPECT_FALSE(one->Contains(Ip("127.0.0.2")));
  absl::StatusOr<Cidr> v6 = Cidr::Parse("::1/128");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("::1")));
  EXPECT_FALSE(v6->Contains(Ip("::2")));
  EXPECT_FALSE(v6->Contains(Ip("127.0.0.1")));
}

TEST(Cidr, Ipv4MappedAddressesMatchIpv4Networks) {
  absl::StatusOr<Cidr> loopback = Cidr::Parse("127.0.0.0/8");
  ASSERT_TRUE(loopback.ok());
  EXPECT_TRUE(loopback->Contains(Ip("::ffff:127.0.0.9")));
  EXPECT_FALSE(loopback->Contains(Ip("::127.0.0.9")));
}

TEST(Cidr, ZeroPrefixContainsItsWholeFamily) {
  absl::StatusOr<Cidr> all = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(Ip("203.0.113.9")));
  absl::StatusOr<SocketAddress> unix = SocketAddress::Parse("unix:/x", 0);
  ASSERT_TRUE(unix.ok());
  EXPECT_FALSE(all->Contains(*unix));
}

TEST(Cidr, RejectsWhatIsNotANetwork) {
  for (absl::string_view text :
       {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.1/8",
        "example.com", "10.0.0.0/8/8", "10.0.0.0/ 8"}) {
    EXPECT_FALSE(Cidr::Parse(text).ok()) << text;
  }
}

TEST(Cidr, ParsesLists) {
  absl::StatusOr<std::vector<Cidr>> list =
      ParseCidrList("10.0.0.0/8, ::1 ,127.0.0.5");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_TRUE(AnyContains(*list, Ip("127.0.0.5")));
  EXPECT_FALSE(AnyContains(*list, Ip("127.0.0.6")));
  EXPECT_TRUE(ParseCidrList("")->empty());
  EXPECT_FALSE(ParseCidrList("10.0.0.0/8,nope").ok());
}

TEST(UnixAddress, ParsesAndPrintsPathsAndAbstractNames) {
  absl::StatusOr<SocketAddress> path =
      SocketAddress::ParseHostPort("unix:/run/eddy.sock");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_TRUE(path->is_unix());
  EXPECT_FALSE(path->is_abstract());
  EXPECT_EQ(path->unix_path(), "/run/eddy.sock");
  EXPECT_EQ(path->ToString(), "unix:/run/eddy.sock");
  EXPECT_EQ(path->host(), "unix:/run/eddy.sock");
  EXPECT_EQ(path->port(), 0);

  absl::StatusOr<SocketAddress> abstract =
      SocketAddress::Parse("unix:@eddy", 80);
  ASSERT_TRUE(abstract.ok()) << abstract.status();
  EXPECT_TRUE(abstract->is_abstract());
  EXPECT_EQ(abstract->unix_path(), "");
  EXPECT_EQ(abstract->ToString(), "unix:@eddy");
  EXPECT_EQ(abstract->port(), 0);
}

TEST(UnixAddress, RejectsEmptyAndOverlongNames) {
  EXPECT_FALSE(SocketAddress::Parse("unix:", 0).ok());
  EXPECT_FALSE(SocketAddress::Parse("unix:@", 0).ok());
  EXPECT_FALSE(SocketAddress::Parse("unix:/" + std::string(107, 'x'), 0).ok());
  EXPECT_TRUE(SocketAddress::Parse("unix:/" + std::string(106, 'x'), 0).ok());
}

}  // namespace
}  // namespace eddy
