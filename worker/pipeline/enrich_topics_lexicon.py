"""Vocabulary of the IPTC Media Topics level-1 categories, for enrich_topics.

Terms come from the names of each category's narrower IPTC topics and the
everyday words of the news desks that cover it; written for this project.
Each entry is (weight, "comma, separated, terms"): 2.0 for words that nearly
always mean the topic, 1.0 for typical words, 0.5 for words shared with other
topics. Words are lower-case singular; two-word terms match adjacent words.
"""

from __future__ import annotations

LEXICON: dict[str, list[tuple[float, str]]] = {
    "arts, culture, entertainment and media": [
        (
            2.0,
            "album, film, movie, actor, actress, singer, songwriter, band, concert, box "
            "office, oscar, grammy, emmy, hollywood, broadway, novelist, museum, exhibition, "
            "gallery, sculpture, painting, painter, theatre, theater, screenplay, sitcom, "
            "netflix, streaming service, disney, celebrity, rapper, soundtrack, documentary, "
            "festival lineup, debut album, box-office",
        ),
        (
            1.0,
            "music, song, songs, tour, stage, director, premiere, episode, series, show, "
            "television, tv, studio, artist, art, culture, cultural, novel, book, books, "
            "author, poet, poetry, literature, fiction, comedy, drama, musical, dance, fans, "
            "audience, entertainment, media, newspaper, magazine, journalist, journalism, "
            "publisher, broadcast, broadcaster, podcast, radio, record label, billboard, "
            "chart, singles, performance, perform, performed, starring, cast, character, "
            "anniversary tour, reunion, trailer, sequel, franchise, award, awards, "
            "nomination, nominated, script, filmmaker, animation, video game, video games, "
            "gaming, game, games, console, playstation, xbox, nintendo, gamer, gameplay, "
            "review, designer, architecture, exhibit, heritage, photography, photographer, "
            "fashion week",
        ),
    ],
    "conflict, war and peace": [
        (
            2.0,
            "war, warfare, troops, soldier, soldiers, militia, militant, militants, "
            "insurgent, airstrike, air strike, drone strike, missile, ceasefire, cease-fire, "
            "armed conflict, invasion, invaded, combat, battlefield, army, military, "
            "pentagon, nato, peace talks, peacekeeping, terrorist, terrorism, "
            "counterterrorism, isis, taliban, al-qaeda, rebel, rebels, bombing, shelling, "
            "artillery, genocide, protesters, protest, protests, riot, riots, demonstrators, "
            "unrest, coup, occupation",
        ),
        (
            1.0,
            "attack, attacks, killed, casualties, forces, defense, defence, weapons, weapon, "
            "nuclear, sanctions, hostage, refugee, refugees, border, settlement, settlements, "
            "clashes, clash, violence, police, tear gas, crackdown, siege, base, navy, "
            "marine, marines, general, commander, helicopter, veteran, veterans, service "
            "member, security forces, conflict, tensions, allies, coalition, withdrawal, "
            "deployed, deployment, occupied, annexation",
        ),
    ],
    "crime, law and justice": [
        (
            2.0,
            "crime, criminal, murder, homicide, manslaughter, arrested, arrest, suspect, "
            "prosecutor, prosecutors, indictment, indicted, convicted, conviction, sentenced, "
            "sentence, prison, jail, inmate, inmates, felony, lawsuit, plaintiff, defendant, "
            "judge, jury, trial, court, supreme court, attorney general, guilty, plea, "
            "stabbed, stabbing, shooting, shot dead, robbery, burglary, theft, fraud, "
            "kidnapping, kidnapped, abducted, amber alert, trafficking, police said, "
            "detectives, investigators, sheriff, lawyer, lawyers, litigation, verdict, "
            "appeal, appeals court",
        ),
        (
            1.0,
            "police, officer, officers, law, legal, justice, charged, charges, charge, "
            "investigation, investigating, victim, victims, evidence, witness, testimony, "
            "custody, bail, parole, probation, warrant, illegal, allegation, allegations, "
            "alleged, allegedly, accused, sued, sue, settlement, regulator, threatening, "
            "threat, threats, drugs, drug, meth, smuggling, gang, guards, department of "
            "justice, fbi, doj, lawmakers",
        ),
    ],
    "disaster, accident and emergency incident": [
        (
            2.0,
            "earthquake, tsunami, hurricane, tornado, wildfire, wildfires, flood, flooding, "
            "landslide, avalanche, eruption, volcano, disaster, crash, crashed, collision, "
            "derailment, explosion, blaze, firefighters, evacuation, evacuated, evacuate, "
            "emergency services, rescue, rescued, rescuers, survivors, death toll, power "
            "shutoff, blackout, outage, drowned, wreck",
        ),
        (
            1.0,
            "fire, fires, accident, injured, injuries, emergency, damage, destroyed, victims, "
            "missing, dead, killed, crashes, storm, burned, search, collapse, collapsed, "
            "relief, aid, red cross, fema, power lines, utility, shutoff",
        ),
    ],
    "economy, business and finance": [
        (
            2.0,
            "economy, economic, economist, economists, gdp, inflation, recession, stock, "
            "stocks, shares, shareholder, shareholders, investor, investors, earnings, "
            "revenue, profit, profits, quarterly, fiscal, ceo, chief executive, merger, "
            "acquisition, acquire, acquired, ipo, listing, valuation, startup, nasdaq, dow, "
            "s&p, wall street, stock market, stock exchange, bond, bonds, interest rate, "
            "interest rates, federal reserve, central bank, tariff, tariffs, trade deal, "
            "trade war, bank, banks, banking, finance, financial, investment, investing, "
            "retail, retailer, sales, billion, million, dividend, hedge fund, analyst, "
            "analysts, forecast, markets, market, brokerage, mortgage, credit, debt, loan, "
            "loans, layoffs, laid off, company, companies, corporate, business, businesses, "
            "industry, manufacturer, automaker, price, prices, deal, deals, discount, "
            "discounts, black friday, cyber monday, retirement, savings, 401(k), ira, budget, "
            "spending, consumer, consumers, customers, brand, brands",
        ),
        (
            1.0,
            "firm, firms, growth, cost, costs, funding, investment, invest, fund, funds, "
            "money, income, tax, taxes, export, exports, import, imports, supply chain, "
            "demand, product, products, launch, launched, executive, executives, board, "
            "partnership, partner, acquisition, subscription, subscribers, pricing, dollar, "
            "dollars, euro, yen, rupee, percent, per cent, quarter, year-on-year, employees, "
            "workforce, office space, real estate, property, landlord, co-founder, founder, "
            "venture, capital, sensex, nifty, index, trading, traded, ev, electric vehicle, "
            "electric vehicles, suv, suvs, sedan, auto show, car, cars, vehicle, vehicles, "
            "model, lineup, dealer, dealers, horsepower",
        ),
    ],
    "education": [
        (
            2.0,
            "school, schools, student, students, teacher, teachers, university, universities, "
            "college, colleges, campus, classroom, curriculum, tuition, pupils, kindergarten, "
            "education, educational, educator, educators, school district, graduate, "
            "graduates, scholarship, professor, lecturer, semester, exam, exams, homework",
        ),
        (
            1.0,
            "learning, learn, class, classes, teaching, academic, degree, study, studies, "
            "children, kids, parents, principal, enrollment, literacy",
        ),
    ],
    "environment": [
        (
            2.0,
            "climate change, global warming, emissions, carbon, greenhouse, pollution, "
            "environmental, environmentalists, conservation, endangered, species, wildlife, "
            "biodiversity, deforestation, renewable, renewables, solar, wind power, fossil "
            "fuels, recycling, plastic, sustainability, sustainable, ecosystem, air quality, "
            "epa",
        ),
        (
            1.0,
            "environment, climate, energy, oil, gas, coal, water, forest, forests, ocean, "
            "oceans, river, rivers, nature, green, clean air, oxygen, smog, waste, habitat, "
            "drought",
        ),
    ],
    "health": [
        (
            2.0,
            "health, healthcare, health care, hospital, hospitals, patient, patients, doctor, "
            "doctors, physician, physicians, nurse, nurses, disease, diseases, virus, "
            "infection, infections, infected, vaccine, vaccines, vaccination, flu, influenza, "
            "epidemic, pandemic, outbreak, cancer, diabetes, symptoms, diagnosis, diagnosed, "
            "treatment, therapy, medical, medicine, medication, drug, clinical, plague, "
            "bacteria, mental health, obesity, nutrition, diet, calories, protein, lung, "
            "lungs, heart disease, fatality, encephalitis, mosquito, surgery, cdc, fda, "
            "public health, pharmaceutical, allergy, allergic, eating disorder, binge eating, "
            "overeating",
        ),
        (
            1.0,
            "health officials, care, clinic, clinics, illness, ill, sick, deaths, died, "
            "blood, brain, body, weight, exercise, fitness, workout, sleep, healthy, eating, "
            "food, foods, meal, meals, vitamin, injury, pain, hospitalised, hospitalized, "
            "study, researchers",
        ),
    ],
    "human interest": [
        (
            2.0,
            "dear abby, heartwarming, viral video, went viral, centenarian, birthday, "
            "wedding, proposal, adopted, reunited, pet, pets, puppy, kitten, dog, dogs, cat, "
            "cats, horse, horses, zoo, oddly, bizarre, quirky",
        ),
        (
            1.0,
            "family, husband, wife, mother, father, daughter, son, grandmother, grandfather, "
            "love, friend, friends, couple, story, life, lives, hero, kindness, community, "
            "neighbors, neighbours, celebrates, celebration, animal, animals",
        ),
    ],
    "labour": [
        (
            2.0,
            "union, unions, labor union, labour union, strike, strikes, strikers, collective "
            "bargaining, minimum wage, wages, wage, unemployment, jobless, workers, worker, "
            "employment, employer, employers, layoff, layoffs, pension, pensions, workplace, "
            "labor, labour, teachers union, walkout, picket",
        ),
        (
            1.0,
            "jobs, job, employees, staff, hiring, hired, salary, salaries, pay, contract, "
            "overtime, benefits, retirement, retire, work, working, career, careers",
        ),
    ],
    "lifestyle and leisure": [
        (
            2.0,
            "recipe, recipes, cooking, chef, restaurant, restaurants, travel, traveler, "
            "travellers, tourism, tourist, tourists, vacation, holiday, holidays, hotel, "
            "hotels, cruise, hiking, hike, camping, gardening, fashion, style, beauty, "
            "makeup, cosmetics, skincare, wine, beer, cocktail, hobby, hobbies, shopping, "
            "gift, gifts, meal prep, leisure, lifestyle, dating, relationship, wellness, "
            "yoga, meditation, deals, sale, gadget, gadgets, gear",
        ),
        (
            1.0,
            "food, drink, drinks, home, house, decor, design, trip, trips, weekend, fun, "
            "enjoy, family, kids, dinner, lunch, breakfast, snack, snacks, bike, motorcycle, "
            "outdoor, outdoors, adventure, game, games, toy, toys, party, nostalgia, "
            "nostalgic, kit, tips, advice",
        ),
    ],
    "politics": [
        (
            2.0,
            "election, elections, electoral, vote, votes, voting, voters, voter, ballot, "
            "campaign, candidate, candidates, presidential, president, senate, senator, "
            "senators, congress, congressional, congressman, congresswoman, parliament, "
            "parliamentary, legislature, legislative, lawmaker, lawmakers, governor, "
            "government, minister, prime minister, cabinet, democrat, democrats, democratic, "
            "republican, republicans, gop, conservative, conservatives, liberal, liberals, "
            "labour party, tory, tories, impeachment, impeach, white house, administration, "
            "policy, politics, political, politician, politicians, diplomat, diplomatic, "
            "diplomacy, embassy, ambassador, foreign minister, secretary of state, state "
            "department, referendum, mayor, council, party, parties, opposition, coalition "
            "government, primary, caucus, poll, polls, polling, inquiry, testimony, hearing, "
            "hearings, house speaker, speaker, committee, bill, legislation, veto",
        ),
        (
            1.0,
            "state, states, federal, national, official, officials, leader, leaders, "
            "sovereignty, independence, constitution, constitutional, rights, reform, "
            "regulation, regulations, policy shift, nation, nations, united nations, un, eu, "
            "european union, trump, biden, obama, clinton, sanders, warren, governor's, "
            "statehouse, capitol, agency",
        ),
    ],
    "religion": [
        (
            2.0,
            "church, churches, religion, religious, faith, god, allah, islam, islamic, "
            "muslim, muslims, christian, christians, christianity, catholic, pope, vatican, "
            "bishop, priest, pastor, mosque, temple, synagogue, jewish, judaism, hindu, "
            "buddhist, buddhism, bible, quran, prayer, pray, worship, spiritual, sin, imam, "
            "rabbi, clergy, evangelical, saint, holy, sermon, believers",
        ),
        (
            1.0,
            "belief, beliefs, soul, heaven, blessing, blessed, ramadan, christmas, easter, "
            "hate, love",
        ),
    ],
    "science and technology": [
        (
            2.0,
            "science, scientist, scientists, scientific, research, researcher, researchers, "
            "study, laboratory, nasa, space, spacecraft, astronaut, astronauts, planet, moon, "
            "lunar, mars, jupiter, europa, orbit, telescope, rocket, satellite, satellites, "
            "spacex, physics, chemistry, biology, genetic, genome, technology, tech, "
            "software, hardware, computer, computers, laptop, smartphone, iphone, android, "
            "apple, google, microsoft, amazon, facebook, instagram, twitter, app, apps, "
            "algorithm, artificial intelligence, ai, robot, robots, robotics, chip, chips, "
            "processor, cloud, data, internet, online, cybersecurity, hackers, hacking, "
            "encryption, startup, silicon valley, keyboard, macbook, ipad, airpods, "
            "streaming, stadia, xcloud, 5g, broadband, battery, batteries, electric, "
            "engineering, engineers, innovation, device, devices, gadget, platform, users, "
            "user, digital, analytics, hibernation, water vapor, species, fossil, experiment, "
            "experiments",
        ),
        (
            1.0,
            "scientific study, discovery, discovered, data, launch, mission, lander, "
            "spaceflight, tech giant, tech giants, screen, display, camera, wi-fi, bluetooth, "
            "upgrade, update, version, feature, features, users, download, subscription, pc, "
            "mac, windows, linux, chrome, browser, website, web",
        ),
    ],
    "society": [
        (
            2.0,
            "immigration, immigrants, immigrant, migrants, migrant, deportation, deported, "
            "deportees, asylum, poverty, homeless, homelessness, inequality, racism, "
            "discrimination, civil rights, human rights, lgbt, lgbtq, gay, transgender, "
            "gender, women's rights, feminism, welfare, social security, charity, charities, "
            "nonprofit, non-profit, philanthropy, donation, donations, volunteer, volunteers, "
            "demographic, census, population, diversity",
        ),
        (
            1.0,
            "society, social, community, communities, families, people, citizens, residents, "
            "public, culture war, housing, neighborhood, youth, elderly, seniors, generation, "
            "millennials, grant, grants, evidence action, givewell, poor, aid, development, "
            "dreams, detained, detention",
        ),
    ],
    "sport": [
        (
            2.0,
            "sport, sports, football, soccer, basketball, baseball, tennis, golf, hockey, "
            "cricket, rugby, boxing, racing, nascar, formula one, f1, olympic, olympics, "
            "athlete, athletes, coach, coaches, player, players, team, teams, league, nfl, "
            "nba, mlb, nhl, fifa, uefa, premier league, championship, championships, "
            "tournament, match, matches, season, playoff, playoffs, quarterback, touchdown, "
            "goal, goals, scored, score, scoring, win, wins, won, defeat, defeated, victory, "
            "cup, davis cup, world cup, stadium, fans, referee, inning, innings, pitcher, "
            "striker, midfielder, defender, goalkeeper, lakers, chelsea, browns, steelers, "
            "triple-double, rebounds, assists, points, snap, snaps, defensive, offensive, "
            "roster, draft, swim, swimming, swimmer, relay, meet, medal, medals, race, races, "
            "driver, drivers, lap, laps, grand prix, rally, semifinal, semifinals, final, "
            "finals, singles, doubles, seeded, title, titles, transfer, contract, injury, "
            "injured list",
        ),
        (
            1.0,
            "game, games, play, played, playing, week, coach's, field, court, ball, run, "
            "runs, yard, yards, pass, passes, shot, shots, three-pointer, 3-pointer, free "
            "throw, minutes, half, quarter, record, records, rookie, veteran, star, stars, "
            "club, clubs, squad, manager, captain, opener",
        ),
    ],
    "weather": [
        (
            2.0,
            "weather, forecast, forecasters, meteorologist, meteorologists, rain, rainfall, "
            "snow, snowfall, snowstorm, blizzard, storm, storms, thunderstorm, heat wave, "
            "heatwave, temperatures, temperature, degrees, humidity, fog, frost, sunny, "
            "cloudy, showers, winds, gusts, national weather service, cold front, monsoon, "
            "typhoon, cyclone",
        ),
        (1.0, "cold, hot, warm, wind, sunshine, clouds, ice, icy, chilly, mild, wet, dry"),
    ],
}
