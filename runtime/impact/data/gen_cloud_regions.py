import csv,sys
S='/work/shared/data/cloud/'
loc2iso={'United States':'USA','South Africa':'ZAF','Hong Kong':'HKG','India':'IND','Japan':'JPN','South Korea':'KOR','Singapore':'SGP','Australia':'AUS','Canada':'CAN','China':'CHN','Germany':'DEU','Ireland':'IRL','England':'GBR','Italy':'ITA','France':'FRA','Sweden':'SWE','Bahrain':'BHR','Brazil':'BRA',
 'Iowa':'USA','Virginia':'USA','Georgia':'USA','Illinois':'USA','Texas':'USA','Wyoming':'USA','California':'USA','Washington':'USA','Arizona':'USA','Singapore':'SGP','Netherlands':'NLD','Pune':'IND','Chennai':'IND','Mumbai':'IND','London':'GBR','Cardiff':'GBR','Paris':'FRA','Helsinki':'FIN','Frankfurt':'DEU','Brussels':'BEL','Gavle':'SWE',
 'Johannesburg':'ZAF','Taiwan':'TWN','Tokyo':'JPN','Osaka':'JPN','Seoul':'KOR','Delhi':'IND','Jakarta':'IDN','Sydney':'AUS','Melbourne':'AUS','Warsaw':'POL','Finland':'FIN','Stockholm':'SWE','Madrid':'ESP','Belgium':'BEL','Eemshaven':'NLD','Zürich':'CHE','Milan':'ITA','Berlin':'DEU','Turin':'ITA','Doha':'QAT','Dammam':'SAU','Tel Aviv':'ISR','Montréal':'CAN','Toronto':'CAN','Mexico':'MEX','Sāo Paulo':'BRA','Santiago':'CHL','Oklahoma':'USA','South Carolina':'USA','Northern Virginia':'USA','Columbus':'USA','Dallas':'USA','Oregon':'USA','Los Angeles':'USA','Salt Lake City':'USA','Las Vegas':'USA','Indonesia':'IDN','Switzerland':'CHE'}
out=csv.writer(sys.stdout, lineterminator='\n')
out.writerow(['provider','region','iso3','gco2e_per_kwh','source'])
def fix(v):
    # two Azure rows are malformed upstream ("000077" means 0.000077)
    if not v.startswith('0.'): v='0.'+v
    return float(v)*1e6
for p in ['aws','azure']:
    for r in csv.DictReader(open(S+f'ccf_grid_emissions_factors_{p}.csv')):
        loc=r.get('Country') or r.get('Location')
        out.writerow([p,r['Region'],loc2iso[loc],round(fix(r['CO2e (metric ton/kWh)']),3),'CCF '+r['Source']])
seen=set()
for r in csv.DictReader(open(S+'gcp_region_carbon_2024.csv')):
    seen.add(r['Google Cloud Region'])
    out.writerow(['gcp',r['Google Cloud Region'],loc2iso[r['Location']],r['Grid carbon intensity (gCO2eq / kWh)'],'Google 2024'])
for r in csv.DictReader(open(S+'ccf_grid_emissions_factors_gcp.csv')):
    if r['Region'] in seen: continue
    out.writerow(['gcp',r['Region'],loc2iso[r['Location']],round(fix(r['CO2e (metric ton/kWh)']),3),'CCF '+r['Source']])
