using System;
using System.Net;
using Xunit;

namespace SocketCmdlets.Core.Tests
{
    public sealed class AddressFilterTests
    {
        private static bool Allowed(AddressFilter filter, string address) => filter.IsAllowed(IPAddress.Parse(address));

        [Fact]
        public void An_empty_filter_allows_everyone_and_says_it_is_empty()
        {
            AddressFilter filter = AddressFilter.Create(null, new string[0]);
            Assert.True(filter.IsEmpty);
            Assert.True(Allowed(filter, "203.0.113.9"));
            Assert.True(Allowed(filter, "2001:db8::1"));
            Assert.True(filter.IsAllowed(null));
        }

        [Theory]
        [InlineData("10.0.0.0/8", "10.255.1.2", true)]
        [InlineData("10.0.0.0/8", "11.0.0.1", false)]
        [InlineData("127.0.0.1", "127.0.0.1", true)]
        [InlineData("127.0.0.1", "127.0.0.2", false)]
        [InlineData("192.168.1.128/25", "192.168.1.200", true)]
        [InlineData("192.168.1.128/25", "192.168.1.100", false)]
        [InlineData("0.0.0.0/0", "8.8.8.8", true)]
        [InlineData("::1", "::1", true)]
        [InlineData("::1", "::2", false)]
        [InlineData("fd00::/8", "fd12:3456::1", true)]
        [InlineData("fd00::/8", "fe80::1", false)]
        [InlineData("2001:db8::/33", "2001:db8:7fff::1", true)]
        [InlineData("2001:db8::/33", "2001:db8:8000::1", false)]
        [InlineData("10.0.0.7/8", "10.1.1.1", true)]
        public void Allow_lists_match_addresses_and_ranges(string entry, string address, bool expected)
        {
            AddressFilter filter = AddressFilter.Create(new[] { entry }, null);
            Assert.False(filter.IsEmpty);
            Assert.Equal(expected, Allowed(filter, address));
        }

        [Fact]
        public void Deny_wins_over_allow()
        {
            AddressFilter filter = AddressFilter.Create(new[] { "127.0.0.0/8" }, new[] { "127.0.0.2" });
            Assert.True(Allowed(filter, "127.0.0.1"));
            Assert.False(Allowed(filter, "127.0.0.2"));
            Assert.False(Allowed(filter, "10.0.0.1"));
        }

        [Fact]
        public void A_deny_list_alone_allows_everyone_else()
        {
            AddressFilter filter = AddressFilter.Create(null, new[] { "10.0.0.0/8", "::1" });
            Assert.False(Allowed(filter, "10.2.3.4"));
            Assert.False(Allowed(filter, "::1"));
            Assert.True(Allowed(filter, "127.0.0.1"));
        }

        [Fact]
        public void IPv4_mapped_IPv6_clients_are_matched_as_IPv4()
        {
            AddressFilter filter = AddressFilter.Create(new[] { "127.0.0.0/8" }, new[] { "127.0.0.9" });
            Assert.True(Allowed(filter, "::ffff:127.0.0.1"));
            Assert.False(Allowed(filter, "::ffff:127.0.0.9"));
            Assert.False(Allowed(filter, "::ffff:10.0.0.1"));
        }

        [Fact]
        public void IPv4_mapped_entries_are_read_as_IPv4_ranges()
        {
            AddressFilter filter = AddressFilter.Create(new[] { "::ffff:10.0.0.0/104" }, null);
            Assert.True(Allowed(filter, "10.9.9.9"));
            Assert.True(Allowed(filter, "::ffff:10.9.9.9"));
            Assert.False(Allowed(filter, "11.0.0.1"));
        }

        [Fact]
        public void IPv4_ranges_never_match_IPv6_addresses_and_back()
        {
            Assert.False(Allowed(AddressFilter.Create(new[] { "0.0.0.0/0" }, null), "::1"));
            Assert.False(Allowed(AddressFilter.Create(new[] { "::/0" }, null), "127.0.0.1"));
        }

        [Fact]
        public void A_scope_id_does_not_change_the_match()
        {
            AddressFilter filter = AddressFilter.Create(new[] { "fe80::/10" }, null);
            var scoped = IPAddress.Parse("fe80::1");
            scoped.ScopeId = 3;
            Assert.True(filter.IsAllowed(scoped));
        }

        [Fact]
        public void A_Unix_peer_without_address_is_refused_by_a_filter()
        {
            Assert.False(AddressFilter.Create(new[] { "127.0.0.1" }, null).IsAllowed(null));
        }

        [Theory]
        [InlineData("10.0.0.0/33")]
        [InlineData("::/129")]
        [InlineData("10.0.0.0/")]
        [InlineData("10.0.0.0/-1")]
        [InlineData("10.0.0.0/8/8")]
        [InlineData("/8")]
        [InlineData("nonsense")]
        [InlineData("10")]
        [InlineData("10.1")]
        [InlineData("256.0.0.1")]
        [InlineData("1.2.3.4.5")]
        [InlineData("::ffff:10.0.0.0/64")]
        [InlineData("localhost")]
        public void A_bad_entry_throws_an_ArgumentException_naming_it(string entry)
        {
            var e = Assert.Throws<ArgumentException>(() => AddressFilter.Create(new[] { "127.0.0.1", entry }, null));
            Assert.Contains($"'{entry}'", e.Message);
            Assert.Equal("allow", e.ParamName);
        }

        [Theory]
        [InlineData("")]
        [InlineData("  ")]
        [InlineData(null)]
        public void An_empty_entry_throws(string entry)
        {
            var e = Assert.Throws<ArgumentException>(() => AddressFilter.Create(null, new[] { entry }));
            Assert.Equal("deny", e.ParamName);
        }
    }
}
