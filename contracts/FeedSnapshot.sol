// SPDX-License-Identifier: MIT
// One chain's whole oracle reading in one EVM execution. Never deployed: the relayer sends this
// contract's creation code as an `eth_call` without `to`, and the constructor returns the
// reading instead of code. Six reads (latestRoundData, decimals, minAnswer, maxAnswer of the
// price feed, latestRoundData of the sequencer-uptime feed, the block's timestamp) cost one
// JSON-RPC call, and all of them see the same block, which a batch of calls does not promise.
pragma solidity ^0.8.22;

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// The answer bounds of a Chainlink OCR aggregator (not part of AggregatorV3Interface).
interface IAnswerBounds {
    function minAnswer() external view returns (int192);

    function maxAnswer() external view returns (int192);
}

contract FeedSnapshot {
    /// `read` names the call that failed: latestRoundData, decimals, minAnswer, maxAnswer or
    /// sequencer.latestRoundData; `feed` is the contract that failed it.
    error FeedReadFailed(string read, address feed);
    /// The configured feed address holds no contract on this chain.
    error NoFeedAt(address feed);

    struct Reading {
        uint80 roundId;
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
        uint80 answeredInRound;
        uint8 decimals;
        int192 minAnswer;
        int192 maxAnswer;
        /// False when `sequencerFeed` is the zero address (the chain has none).
        bool hasSequencer;
        int256 sequencerAnswer;
        uint256 sequencerStartedAt;
        uint256 blockTimestamp;
    }

    constructor(address priceFeed, address sequencerFeed) {
        if (priceFeed.code.length == 0) revert NoFeedAt(priceFeed);
        if (sequencerFeed != address(0) && sequencerFeed.code.length == 0) revert NoFeedAt(sequencerFeed);
        Reading memory r;
        AggregatorV3Interface feed = AggregatorV3Interface(priceFeed);
        try feed.latestRoundData() returns (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 inRound) {
            (r.roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound) = (id, answer, startedAt, updatedAt, inRound);
        } catch {
            revert FeedReadFailed("latestRoundData", priceFeed);
        }
        try feed.decimals() returns (uint8 d) {
            r.decimals = d;
        } catch {
            revert FeedReadFailed("decimals", priceFeed);
        }
        try IAnswerBounds(priceFeed).minAnswer() returns (int192 min) {
            r.minAnswer = min;
        } catch {
            revert FeedReadFailed("minAnswer", priceFeed);
        }
        try IAnswerBounds(priceFeed).maxAnswer() returns (int192 max) {
            r.maxAnswer = max;
        } catch {
            revert FeedReadFailed("maxAnswer", priceFeed);
        }
        if (sequencerFeed != address(0)) {
            r.hasSequencer = true;
            try AggregatorV3Interface(sequencerFeed).latestRoundData() returns (uint80, int256 answer, uint256 startedAt, uint256, uint80) {
                (r.sequencerAnswer, r.sequencerStartedAt) = (answer, startedAt);
            } catch {
                revert FeedReadFailed("sequencer.latestRoundData", sequencerFeed);
            }
        }
        r.blockTimestamp = block.timestamp;
        bytes memory out = abi.encode(r);
        assembly {
            return(add(out, 32), mload(out))
        }
    }
}
