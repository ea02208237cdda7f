// SUBSCRIBE to the reg event, NOTIFYs through the registration's Path (checked with the
// product's reginfo parser), MESSAGE, and our own requests' retransmission.
#include "imsaka/sip/reginfo.h"
#include "simulator_fixture.h"

namespace imsaka::scscfsim::test {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

class RegEventTest : public SimulatorTest {
  protected:
    // Registers, subscribes; returns the initial NOTIFY (the 200 is checked here).
    SipMessage subscribe() {
        EXPECT_EQ(registerWith(ue_).status(), 200);
        auto datagrams = sim_->receive(ue_.subscribeText(1));
        EXPECT_EQ(datagrams.size(), 2u);
        auto ok = SipMessage::parse(datagrams.at(0).text);
        EXPECT_EQ(ok.status(), 200);
        EXPECT_EQ(datagrams.at(1).to, kPcscf);
        return SipMessage::parse(datagrams.at(1).text);
    }
};

TEST_F(RegEventTest, SubscribeGets200AndAFullActiveNotifyThroughThePath) {
    EXPECT_EQ(registerWith(ue_).status(), 200);
    auto datagrams = sim_->receive(ue_.subscribeText(1));
    ASSERT_EQ(datagrams.size(), 2u);
    auto ok = SipMessage::parse(datagrams[0].text);
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.headerValue("Expires"), "600000");
    ASSERT_TRUE(ok.toTag());
    EXPECT_EQ(datagrams[0].to, kPcscf);

    auto notify = SipMessage::parse(datagrams[1].text);
    EXPECT_EQ(datagrams[1].to, kPcscf);
    EXPECT_EQ(notify.method(), "NOTIFY");
    EXPECT_EQ(notify.requestUri(), ue_.contactUri());
    EXPECT_THAT(notify.rawHeaders("Route"), ElementsAre(kPath));
    EXPECT_EQ(notify.callId(), "sub1@10.46.0.1");
    EXPECT_EQ(notify.fromTag(), ok.toTag());
    EXPECT_EQ(notify.toTag(), "sub1");
    EXPECT_EQ(notify.headerValue("Event"), "reg");
    EXPECT_EQ(notify.headerValue("Subscription-State"), "active;expires=600000");

    auto reginfo = sip::parseReginfo(notify.body());
    EXPECT_EQ(reginfo.version, 0u);
    EXPECT_TRUE(reginfo.full);
    ASSERT_EQ(reginfo.registrations.size(), 2u);
    EXPECT_EQ(reginfo.registrations[0].aor, kImpu);
    EXPECT_EQ(reginfo.registrations[1].aor, "tel:+15550000001");
    const auto& registration = reginfo.registrations[0];
    EXPECT_EQ(registration.state, sip::RegistrationState::Active);
    ASSERT_EQ(registration.contacts.size(), 1u);
    const auto& contact = registration.contacts[0];
    EXPECT_EQ(contact.uri, ue_.contactUri());
    EXPECT_EQ(contact.state, sip::ContactState::Active);
    EXPECT_EQ(contact.event, sip::ContactEvent::Registered);
    EXPECT_EQ(contact.expires, 600u);
    EXPECT_EQ(contact.unknownParam("+sip.instance"), "<urn:gsma:imei:35209900-176148-1>");
    EXPECT_TRUE(sip::isOurContact(contact, {ue_.contactUri(), std::nullopt, std::nullopt}));

    EXPECT_TRUE(log_.has("subscribe expires=600000"));
    EXPECT_TRUE(log_.has("sent method=NOTIFY state=active to=10.46.0.2:5060"));
    EXPECT_TRUE(sim_->receive(VirtualUe::okTo(notify)).empty());
    EXPECT_TRUE(log_.has("notify state=active status=200"));
}

TEST_F(RegEventTest, ASubscribeBeforeRegistrationIsRefused) {
    EXPECT_EQ(send(ue_.subscribeText(1)).status(), 403);
}

TEST_F(RegEventTest, AnotherEventPackageGets489) {
    registerWith(ue_);
    auto text = ue_.subscribeText(1);
    text.replace(text.find("Event: reg"), 10, "Event: presence");
    EXPECT_EQ(send(text).status(), 489);
}

TEST_F(RegEventTest, ShortenedNotifyCutsTheExpiry) {
    auto initial = subscribe();
    sim_->receive(VirtualUe::okTo(initial));
    auto notify = only(sim_->command("notify shortened"));
    EXPECT_EQ(notify.cseqNumber(), initial.cseqNumber() + 1);
    auto reginfo = sip::parseReginfo(notify.body());
    EXPECT_EQ(reginfo.version, 1u);
    const auto& contact = reginfo.registrations.at(0).contacts.at(0);
    EXPECT_EQ(contact.event, sip::ContactEvent::Shortened);
    EXPECT_EQ(contact.state, sip::ContactState::Active);
    EXPECT_EQ(contact.expires, 60u);
    EXPECT_EQ(sip::actionFor(contact), sip::ContactAction::Reauthenticate);
    sim_->receive(VirtualUe::okTo(notify));
    EXPECT_TRUE(log_.has("notify state=shortened status=200"));
}

TEST_F(RegEventTest, DeactivatedAndRejectedEndTheRegistrationAndTheSubscription) {
    for (auto [news, event, action] :
         {std::tuple{"deactivated", sip::ContactEvent::Deactivated,
                     sip::ContactAction::RegisterAgain},
          std::tuple{"rejected", sip::ContactEvent::Rejected, sip::ContactAction::Stop}}) {
        SCOPED_TRACE(news);
        start();
        ue_ = VirtualUe();
        auto initial = subscribe();
        auto notify = only(sim_->command(std::string("notify ") + news));
        EXPECT_EQ(notify.headerValue("Subscription-State"),
                  std::string("terminated;reason=") + news);
        auto reginfo = sip::parseReginfo(notify.body());
        const auto& registration = reginfo.registrations.at(0);
        EXPECT_EQ(registration.state, sip::RegistrationState::Terminated);
        EXPECT_EQ(registration.contacts.at(0).state, sip::ContactState::Terminated);
        EXPECT_EQ(registration.contacts.at(0).event, event);
        EXPECT_EQ(sip::actionFor(registration.contacts.at(0)), action);
        // The binding is gone: nothing more to notify, and a new SUBSCRIBE is refused.
        EXPECT_TRUE(sim_->command("notify active").empty());
        EXPECT_EQ(send(ue_.subscribeText(2)).status(), 403);
    }
}

TEST_F(RegEventTest, NotifyAfterRegisterFollowsTheAnswerToTheInitialNotify) {
    start({.notifyAfterRegister = ContactNews::Shortened});
    auto initial = subscribe();
    auto followUp = only(sim_->receive(VirtualUe::okTo(initial)));
    EXPECT_EQ(followUp.method(), "NOTIFY");
    EXPECT_EQ(sip::parseReginfo(followUp.body()).registrations.at(0).contacts.at(0).event,
              sip::ContactEvent::Shortened);
    // Once only.
    EXPECT_TRUE(sim_->receive(VirtualUe::okTo(followUp)).empty());
    EXPECT_THAT(log_.starting("notify"),
                ElementsAre("notify state=active status=200", "notify state=shortened status=200"));
}

TEST_F(RegEventTest, AnUnansweredNotifyIsRetransmittedThenGivenUp) {
    auto initial = subscribe();
    EXPECT_EQ(sim_->nextTimer(), now_ + 500ms);
    now_ += 500ms;
    auto again = sim_->expireTimers();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(SipMessage::parse(again[0].text).cseq(), initial.cseq());
    EXPECT_EQ(sim_->nextTimer(), now_ + 1s);
    now_ += 40s;
    EXPECT_TRUE(sim_->expireTimers().empty());
    EXPECT_TRUE(log_.has("notify state=active status=408"));
    EXPECT_FALSE(sim_->nextTimer());
}

TEST_F(RegEventTest, UnsubscribeGetsAFinalNotify) {
    auto initial = subscribe();
    sim_->receive(VirtualUe::okTo(initial));
    auto refresh = ue_.subscribeText(2, 0);
    refresh.replace(refresh.find("To: <" + kImpu + ">"), 6 + kImpu.size(),
                    "To: <" + kImpu + ">;tag=" + *initial.fromTag());
    auto datagrams = sim_->receive(refresh);
    ASSERT_EQ(datagrams.size(), 2u);
    EXPECT_EQ(SipMessage::parse(datagrams[0].text).status(), 200);
    EXPECT_EQ(SipMessage::parse(datagrams[1].text).headerValue("Subscription-State"),
              "terminated;reason=timeout");
    EXPECT_TRUE(sim_->command("notify active").empty());
}

TEST_F(RegEventTest, MessageGoesToTheRegisteredContactThroughThePath) {
    EXPECT_EQ(registerWith(ue_).status(), 200);
    auto datagrams = sim_->command("message");
    ASSERT_EQ(datagrams.size(), 1u);
    EXPECT_EQ(datagrams[0].to, kPcscf);
    auto message = SipMessage::parse(datagrams[0].text);
    EXPECT_EQ(message.method(), "MESSAGE");
    EXPECT_EQ(message.requestUri(), ue_.contactUri());
    EXPECT_THAT(message.rawHeaders("Route"), ElementsAre(kPath));
    EXPECT_EQ(message.toUri(), kImpu);
    EXPECT_FALSE(message.body().empty());
    sim_->receive(VirtualUe::okTo(message));
    EXPECT_TRUE(log_.has("message status=200"));
}

}  // namespace
}  // namespace imsaka::scscfsim::test
