import XCTest

@testable import WSGate

/// RFC 7692 section 7: offers, parameters, declines and fall-backs.
final class PerMessageDeflateNegotiationTests: XCTestCase {
    private func negotiate(
        _ headers: [String],
        _ configuration: CompressionConfiguration = CompressionConfiguration()
    ) -> PerMessageDeflateAgreement? {
        PerMessageDeflateNegotiation(configuration: configuration).negotiate(headers)
    }

    private func answer(_ header: String, _ configuration: CompressionConfiguration = CompressionConfiguration()) -> String? {
        self.negotiate([header], configuration)?.responseHeader
    }

    func testPlainOfferIsAcceptedWithDefaults() {
        let agreement = self.negotiate(["permessage-deflate"])
        XCTAssertEqual(
            agreement,
            PerMessageDeflateAgreement(
                serverNoContextTakeover: false,
                clientNoContextTakeover: false,
                serverWindowBits: 15,
                clientWindowBits: 15,
                responseHeader: "permessage-deflate"
            )
        )
    }

    func testNoOfferOrOtherExtensionsGiveNoCompression() {
        XCTAssertNil(self.negotiate([]))
        XCTAssertNil(self.negotiate(["x-webkit-deflate-frame", "foo; bar=1"]))
    }

    func testDisabledCompressionDeclinesEverything() {
        XCTAssertNil(self.negotiate(["permessage-deflate"], CompressionConfiguration(enabled: false)))
    }

    func testServerNoContextTakeoverIsHonoured() {
        let agreement = self.negotiate(["permessage-deflate; server_no_context_takeover"])
        XCTAssertEqual(agreement?.serverNoContextTakeover, true)
        XCTAssertEqual(agreement?.clientNoContextTakeover, false)
        XCTAssertEqual(agreement?.responseHeader, "permessage-deflate; server_no_context_takeover")
    }

    func testClientNoContextTakeoverHintIsConfirmed() {
        let agreement = self.negotiate(["permessage-deflate; client_no_context_takeover"])
        XCTAssertEqual(agreement?.clientNoContextTakeover, true)
        XCTAssertEqual(agreement?.responseHeader, "permessage-deflate; client_no_context_takeover")
    }

    func testSharedModeAddsBothNoContextTakeoverParametersUnasked() {
        let shared = CompressionConfiguration(contextTakeover: false)
        let agreement = self.negotiate(["permessage-deflate"], shared)
        XCTAssertEqual(agreement?.serverNoContextTakeover, true)
        XCTAssertEqual(agreement?.clientNoContextTakeover, true)
        XCTAssertEqual(agreement?.responseHeader, "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    func testServerMaxWindowBitsIsAnsweredWithSameOrSmallerValue() {
        XCTAssertEqual(
            self.answer("permessage-deflate; server_max_window_bits=10"),
            "permessage-deflate; server_max_window_bits=10"
        )
        XCTAssertEqual(self.negotiate(["permessage-deflate; server_max_window_bits=10"])?.serverWindowBits, 10)
        let small = CompressionConfiguration(serverMaxWindowBits: 11)
        XCTAssertEqual(
            self.answer("permessage-deflate; server_max_window_bits=13", small),
            "permessage-deflate; server_max_window_bits=11"
        )
        // Not offered: not answered, but the gateway still compresses with its own smaller window.
        XCTAssertEqual(self.answer("permessage-deflate", small), "permessage-deflate")
        XCTAssertEqual(self.negotiate(["permessage-deflate"], small)?.serverWindowBits, 11)
    }

    func testServerMaxWindowBits8IsServedWithNine() {
        let agreement = self.negotiate(["permessage-deflate; server_max_window_bits=8"])
        XCTAssertEqual(agreement?.responseHeader, "permessage-deflate; server_max_window_bits=8")
        XCTAssertEqual(agreement?.serverWindowBits, 9)
    }

    func testClientMaxWindowBitsOnlyAnsweredWhenOffered() {
        let small = CompressionConfiguration(clientMaxWindowBits: 10)
        // Offered without a value: the gateway may choose.
        XCTAssertEqual(
            self.answer("permessage-deflate; client_max_window_bits", small),
            "permessage-deflate; client_max_window_bits=10"
        )
        XCTAssertEqual(self.negotiate(["permessage-deflate; client_max_window_bits"], small)?.clientWindowBits, 10)
        // Offered without a value and nothing to limit: no need to answer.
        XCTAssertEqual(self.answer("permessage-deflate; client_max_window_bits"), "permessage-deflate")
        // Offered with a value: echoed (or lowered), and the inflater sizes its window to it.
        XCTAssertEqual(
            self.answer("permessage-deflate; client_max_window_bits=12"),
            "permessage-deflate; client_max_window_bits=12"
        )
        XCTAssertEqual(self.negotiate(["permessage-deflate; client_max_window_bits=12"])?.clientWindowBits, 12)
        XCTAssertEqual(
            self.answer("permessage-deflate; client_max_window_bits=12", small),
            "permessage-deflate; client_max_window_bits=10"
        )
        // Not offered: never answered, whatever the gateway would like.
        XCTAssertEqual(self.answer("permessage-deflate", small), "permessage-deflate")
        XCTAssertEqual(self.negotiate(["permessage-deflate"], small)?.clientWindowBits, 15)
        // 8 from the client: inflated with a 9-bit window, which covers it.
        XCTAssertEqual(self.negotiate(["permessage-deflate; client_max_window_bits=8"])?.clientWindowBits, 9)
    }

    func testQuotedValuesAndCaseAndWhitespace() {
        XCTAssertEqual(
            self.answer("PerMessage-Deflate ;  Server_Max_Window_Bits = \"10\" ; client_max_window_bits=\"12\""),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12"
        )
    }

    func testAllParametersTogether() {
        let agreement = self.negotiate([
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"
        ])
        XCTAssertEqual(
            agreement,
            PerMessageDeflateAgreement(
                serverNoContextTakeover: true,
                clientNoContextTakeover: true,
                serverWindowBits: 9,
                clientWindowBits: 9,
                responseHeader:
                    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"
            )
        )
    }

    func testInvalidOffersAreDeclined() {
        let invalid = [
            "permessage-deflate; foo",  // unknown parameter
            "permessage-deflate; foo=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // duplicate
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; server_no_context_takeover=1",  // value where none is allowed
            "permessage-deflate; client_no_context_takeover=\"x\"",
            "permessage-deflate; server_max_window_bits",  // value required
            "permessage-deflate; server_max_window_bits=7",  // out of range
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",  // leading zero
            "permessage-deflate; server_max_window_bits=1a",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; client_max_window_bits=\"16\"",
            "permessage-deflate; server_max_window_bits=\"1 0\"",  // not a token once unquoted
            "permessage-deflate; server_max_window_bits=\"10",  // unterminated quote
            "permessage-deflate;",  // empty parameter
        ]
        for offer in invalid {
            XCTAssertNil(self.negotiate([offer]), offer)
        }
    }

    func testFallBackToTheNextAcceptableOffer() {
        // The first offer is invalid, the second is accepted, the third declined.
        XCTAssertEqual(
            self.answer(
                "permessage-deflate; server_max_window_bits=20, permessage-deflate; client_max_window_bits, permessage-deflate"
            ),
            "permessage-deflate"
        )
        XCTAssertEqual(
            self.answer("foo, permessage-deflate; bogus, permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover"
        )
        // Offers spread over several header lines are taken in order.
        XCTAssertEqual(
            self.negotiate(["permessage-deflate; x=1", "permessage-deflate; server_max_window_bits=12"])?.responseHeader,
            "permessage-deflate; server_max_window_bits=12"
        )
        // A quoted comma does not split offers.
        XCTAssertEqual(self.answer("foo; bar=\"a,b\", permessage-deflate"), "permessage-deflate")
    }

    func testBrowserStyleOffer() {
        XCTAssertEqual(
            self.answer("permessage-deflate; client_max_window_bits"),
            "permessage-deflate"
        )
        XCTAssertEqual(
            self.answer("permessage-deflate; client_max_window_bits", CompressionConfiguration(contextTakeover: false)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
    }
}
